// Property-based tests (fast-check, fixed seeds) of the parsers every user- or server-supplied string
// goes through on its own: the target Secret template, durations, scopes, URLs, addresses and
// Retry-After. Each property holds for every input, hostile ones included (huge strings, unicode,
// braces, separators): the parser returns or throws its own error class, never anything else.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DURATION_PATTERN, isHttpsUrl, SCOPE_PATTERN } from '../../../src/api/v1alpha1/schema-kit.ts';
import { formatDuration, parseDuration } from '../../../src/duration.ts';
import { endpointUrl } from '../../../src/oauth/adapters/json-post.ts';
import { createAddressPolicy, InvalidCidrError, parseCidr } from '../../../src/oauth/address-policy.ts';
import { OAuthError } from '../../../src/oauth/errors.ts';
import { parseScope } from '../../../src/oauth/expiry.ts';
import { DEFAULT_MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../src/oauth/retry-after.ts';
import { renderTemplate, TemplateError } from '../../../src/secrets/template.ts';

/** One seed per file, printed by fast-check on failure together with the shrunk counterexample. */
// Thousands of generated inputs each: seconds on a loaded machine, not the default 5.
vi.setConfig({ testTimeout: 60_000 });

const SEED = 19_019;
const runs = (numRuns: number) => ({ seed: SEED, numRuns });

/** Strings people and servers send: any unicode, braces and separators, sometimes very long. */
const hostileString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.stringMatching(/^[{}. a-z_0-9]{0,40}$/),
  fc.constantFrom('', ' ', '{{', '}}', '{{ . }}', '{{ .__proto__ }}', '{{.constructor}}', '\u0000', '\uffff'),
  fc.string({ maxLength: 8 }).map((s) => s.repeat(10_000)),
);

const keyName = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/);

describe('renderTemplate, fuzzed', () => {
  const valuesArb = fc
    .dictionary(keyName, hostileString, { maxKeys: 6 })
    .map((record) => new Map(Object.entries(record)));
  const templateText = (keys: string[]) =>
    fc
      .array(
        fc.oneof(
          hostileString,
          keys.length === 0
            ? fc.constant('{{ .missing }}')
            : fc.constantFrom(...keys).map((k) => `{{ .${k} }}`),
          keys.length === 0 ? fc.constant('{{.x}}') : fc.constantFrom(...keys).map((k) => `{{.${k}}}`),
        ),
        { maxLength: 6 },
      )
      .map((parts) => parts.join(''));

  it('returns a value for every template key, or throws TemplateError naming the key', () => {
    fc.assert(
      fc.property(
        valuesArb.chain((values) =>
          fc.tuple(
            fc.constant(values),
            fc.dictionary(keyName, templateText([...values.keys()]), { maxKeys: 4 }),
          ),
        ),
        ([values, template]) => {
          let rendered: Map<string, string>;
          try {
            rendered = renderTemplate(template, values);
          } catch (error) {
            expect(error).toBeInstanceOf(TemplateError);
            expect((error as TemplateError).message).toMatch(/^spec\.target\.template\.data\./);
            // A failure names keys, never a value.
            for (const value of values.values()) {
              if (value.length >= 8) expect((error as Error).message).not.toContain(value);
            }
            return;
          }
          expect([...rendered.keys()].sort()).toEqual(Object.keys(template).sort());
        },
      ),
      runs(2000),
    );
  });

  it('substitutes exactly: rendering with placeholders only known keys equals a plain string replace', () => {
    fc.assert(
      fc.property(
        fc.dictionary(keyName, fc.string({ unit: 'grapheme', maxLength: 20 }), { minKeys: 1, maxKeys: 5 }),
        fc.array(fc.oneof(fc.stringMatching(/^[^{}]{0,10}$/), fc.nat()), { maxLength: 8 }),
        (record, parts) => {
          const keys = Object.keys(record);
          const values = new Map(Object.entries(record));
          const text = parts
            .map((part) => (typeof part === 'number' ? `{{ .${keys[part % keys.length] ?? ''} }}` : part))
            .join('');
          const expected = parts
            .map((part) => (typeof part === 'number' ? (record[keys[part % keys.length] ?? ''] ?? '') : part))
            .join('');
          expect(renderTemplate({ out: text }, values).get('out')).toBe(expected);
        },
      ),
      runs(2000),
    );
  });
});

describe('parseDuration and formatDuration, fuzzed', () => {
  const pattern = new RegExp(DURATION_PATTERN);

  it('never throws, and accepts exactly what the CRD pattern accepts (when finite)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          fc.stringMatching(/^([0-9]{1,4}(\.[0-9]{1,3})?(ms|s|m|h|us|d)){0,4}$/),
          fc.stringMatching(/^[0-9.hms]{0,12}$/),
        ),
        (text) => {
          const parsed = parseDuration(text);
          if (parsed !== undefined) {
            expect(Number.isFinite(parsed)).toBe(true);
            expect(parsed).toBeGreaterThanOrEqual(0);
            expect(pattern.test(text)).toBe(true);
          } else if (pattern.test(text)) {
            // Only an overflow may be refused by the parser and accepted by the pattern.
            expect(text.length).toBeGreaterThan(300);
          }
        },
      ),
      runs(5000),
    );
  });

  it('reads back what it formats, for every whole number of milliseconds', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 45 }), (ms) => {
        const text = formatDuration(ms);
        expect(pattern.test(text)).toBe(true);
        expect(parseDuration(text)).toBe(ms);
      }),
      runs(5000),
    );
  });
});

describe('parseScope, fuzzed', () => {
  it('returns distinct, non-empty scopes without separators, in the order sent', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          fc.array(fc.stringMatching(/^[!#-[\]-~]{1,12}$/), { maxLength: 10 }).map((s) => s.join('  ')),
          fc.anything(),
        ),
        (value) => {
          const scopes = parseScope(value);
          if (typeof value !== 'string') {
            expect(scopes).toBeUndefined();
            return;
          }
          expect(scopes).toBeDefined();
          const list = scopes ?? [];
          expect(new Set(list).size).toBe(list.length);
          for (const scope of list) {
            expect(scope).not.toBe('');
            expect(scope).not.toContain(' ');
            expect(value).toContain(scope);
          }
          // Every RFC 6749 scope token sent comes back.
          const scopeToken = new RegExp(SCOPE_PATTERN);
          for (const token of value.split(' ')) if (scopeToken.test(token)) expect(list).toContain(token);
        },
      ),
      runs(2000),
    );
  });
});

describe('URL parsers, fuzzed', () => {
  const urlish = fc.oneof(
    hostileString,
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.webUrl().map((url) => url.replace(/^https?:/, 'https:')),
    fc
      .tuple(
        fc.constantFrom('https://', 'http://', 'ftp://', 'javascript:', 'https:', '//', 'https:///'),
        fc.oneof(
          fc.domain(),
          fc.ipV4(),
          fc.ipV6().map((ip) => `[${ip}]`),
          hostileString,
        ),
        fc.constantFrom('', ':443', ':0', ':99999', '@evil.example', '#frag', '/a b', '/\u0000'),
      )
      .map((parts) => parts.join('')),
  );

  it('isHttpsUrl never throws, and says yes only to an absolute https URL without credentials or fragment', () => {
    fc.assert(
      fc.property(urlish, (text) => {
        if (!isHttpsUrl(text)) return;
        const url = new URL(text);
        expect(url.protocol).toBe('https:');
        expect(url.hostname).not.toBe('');
        expect(url.username + url.password + url.hash).toBe('');
      }),
      runs(5000),
    );
  });

  it('endpointUrl returns an http(s) URL or throws invalid_configuration', () => {
    fc.assert(
      fc.property(urlish, (text) => {
        try {
          expect(['https:', 'http:']).toContain(endpointUrl(text, 'tokenEndpoint').protocol);
        } catch (error) {
          expect(error).toBeInstanceOf(OAuthError);
          expect((error as OAuthError).code).toBe('invalid_configuration');
          if (text.length >= 8) expect((error as Error).message).not.toContain(text);
        }
      }),
      runs(5000),
    );
  });

  it('the address policy classifies every string without throwing, and refuses every non-IP', () => {
    const policy = createAddressPolicy(['127.0.0.1/32']);
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          fc.ipV4(),
          fc.ipV4Extended(),
          fc.ipV6(),
          fc.ipV6().map((ip) => `[${ip}%eth0]`),
        ),
        (address) => {
          const refused = policy.refusal(address);
          if (refused === undefined) expect(address === '127.0.0.1' || /[.:]/.test(address)).toBe(true);
        },
      ),
      runs(5000),
    );
  });

  it('parseCidr parses or throws InvalidCidrError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          fc
            .tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: -1, max: 200 }))
            .map(([a, p]) => `${a}/${p}`),
        ),
        (entry) => {
          try {
            const { prefix, family } = parseCidr(entry);
            expect(prefix).toBeLessThanOrEqual(family === 'ipv4' ? 32 : 128);
            expect(prefix).toBeGreaterThanOrEqual(0);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidCidrError);
          }
        },
      ),
      runs(5000),
    );
  });
});

describe('parseRetryAfter, fuzzed', () => {
  it('is undefined or a whole number of ms between 0 and the cap, whatever the headers say', () => {
    const header = fc.option(
      fc.oneof(
        hostileString,
        fc.nat().map(String),
        fc.double().map(String),
        fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
        fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
      ),
      { nil: null },
    );
    fc.assert(
      fc.property(
        header,
        header,
        header,
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (retryAfter, reset, ietf, now) => {
          const headers = new Map([
            ['retry-after', retryAfter],
            ['x-ratelimit-reset', reset],
            ['ratelimit-reset', ietf],
          ]);
          const delay = parseRetryAfter({ get: (name) => headers.get(name) ?? null }, now);
          if (delay === undefined) return;
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(DEFAULT_MAX_RETRY_AFTER_MS);
        },
      ),
      runs(5000),
    );
  });
});
