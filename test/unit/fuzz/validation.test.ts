// The operator's own validators (ajv over the TypeBox schemas, with the JavaScript twins of the CEL
// rules) on generated objects, valid, invalid and hostile: they answer ok or a list of problems, and
// never throw. The operator runs them on every object it reconciles.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createValidators, formatProblems } from '../../../src/api/validation.ts';
import { fuzzObject } from '../../support/fuzz-objects.ts';

// Thousands of generated inputs each: seconds on a loaded machine, not the default 5.
vi.setConfig({ testTimeout: 60_000 });

const SEED = 19_020;

describe('validators, fuzzed', () => {
  const validators = createValidators();

  it('answer every generated VaultConnection and OAuthClient without throwing', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fuzzObject(), ({ kind, object }) => {
        if (kind === 'Secret') return;
        const result =
          kind === 'OAuthClient' ? validators.oauthClient(object) : validators.vaultConnection(object);
        if (result.ok) accepted += 1;
        else {
          refused += 1;
          expect(formatProblems(result.problems)).not.toBe('');
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // The generator reaches both sides of the schema.
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('refuse an issuer too long for the URL constructor (regression: URL.canParse said yes, new URL threw)', () => {
    const result = validators.oauthClient({
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { name: 'long' },
      spec: { issuer: `https://${'A;'.repeat(8193)}`, clientId: 'c' },
    });
    expect(result.ok).toBe(false);
  });
});

describe('validators on malformed shapes (regressions found by fuzzing)', () => {
  const validators = createValidators();
  it.each([
    ['a null spec', null],
    ['a string spec', 'auth0'],
    ['a null settings block', { type: 'auth0', auth0: null }],
    ['a numeric target', { type: 'apiKey', target: 7 }],
  ])('refuse %s without throwing', (_title, spec) => {
    const result = validators.vaultConnection({
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'x' },
      spec,
    });
    expect(result.ok).toBe(false);
  });
});
