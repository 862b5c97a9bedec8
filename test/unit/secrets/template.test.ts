import { describe, expect, it } from 'vitest';
import { dataHash, requestFingerprint } from '../../../src/secrets/data-hash.ts';
import { secret } from '../../../src/secrets/secret-value.ts';
import { renderTemplate, TemplateError } from '../../../src/secrets/template.ts';

const values = new Map([
  ['access_token', 'tok'],
  ['token_type', 'Bearer'],
]);

describe('renderTemplate', () => {
  it.each([
    [
      'a header from two keys',
      { Authorization: '{{ .token_type }} {{ .access_token }}' },
      { Authorization: 'Bearer tok' },
    ],
    ['without spaces', { t: '{{.access_token}}' }, { t: 'tok' }],
    ['plain text', { audience: 'https://api.example.com/' }, { audience: 'https://api.example.com/' }],
  ])('renders %s', (_title, template, expected) => {
    expect(Object.fromEntries(renderTemplate(template, values))).toEqual(expected);
  });

  it.each([
    [
      'an unknown key',
      { a: '{{ .refresh_token }}' },
      'spec.target.template.data.a: unknown key .refresh_token',
    ],
    ['a function call', { a: '{{ printf "%s" .access_token }}' }, 'only {{ .key }} placeholders'],
    ['an unclosed placeholder', { a: '{{ .access_token' }, 'only {{ .key }} placeholders'],
  ])('refuses %s, naming the template key', (_title, template, message) => {
    expect(() => renderTemplate(template, values)).toThrow(TemplateError);
    expect(() => renderTemplate(template, values)).toThrow(message);
  });

  it('never puts values into its error messages', () => {
    const canary = new Map([['access_token', 'CANARY-VALUE-7f3a']]);
    expect(() => renderTemplate({ a: '{{ .nope }} {{ .access_token }}' }, canary)).toThrow(
      /unknown key \.nope/,
    );
    expect(() => renderTemplate({ a: '{{ .nope }} {{ .access_token }}' }, canary)).not.toThrow(/CANARY/);
  });
});

describe('dataHash', () => {
  it('ignores key order and changes with any value', () => {
    expect(dataHash({ a: '1', b: '2' })).toBe(
      dataHash(
        new Map([
          ['b', '2'],
          ['a', '1'],
        ]),
      ),
    );
    expect(dataHash({ a: '1', b: '2' })).not.toBe(dataHash({ a: '1', b: '3' }));
    expect(dataHash({ ab: 'c' })).not.toBe(dataHash({ a: 'bc' }));
  });
});

describe('requestFingerprint', () => {
  it('depends on every part and on the salt, and never contains the secret', () => {
    const base = requestFingerprint('uid-1', ['https://t', 'client', secret('s3cr3t'), ['a', 'b']]);
    expect(base).not.toContain('s3cr3t');
    expect(requestFingerprint('uid-2', ['https://t', 'client', secret('s3cr3t'), ['a', 'b']])).not.toBe(base);
    expect(requestFingerprint('uid-1', ['https://t', 'client', secret('other'), ['a', 'b']])).not.toBe(base);
    expect(requestFingerprint('uid-1', ['https://t', 'client', secret('s3cr3t'), ['a']])).not.toBe(base);
    expect(requestFingerprint('uid-1', ['https://t', 'client', undefined, ['a', 'b']])).not.toBe(base);
  });
});
