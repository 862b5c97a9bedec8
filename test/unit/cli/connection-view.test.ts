// What status says about a connection, decided from the VaultConnection alone.
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../../src/api/v1alpha1/conditions.ts';
import type { VaultConnection } from '../../../src/api/v1alpha1/resources.ts';
import { shareCounts, stateOf, statusRows } from '../../../src/cli/connection-view.ts';
import { relative, shortDuration, table } from '../../../src/cli/format.ts';

const at = '2026-12-01T10:00:00Z';
const condition = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
});

function connection(
  name: string,
  spec: Partial<VaultConnection['spec']> = {},
  conditions?: Condition[],
  generations: { generation?: number; observed?: number } = {},
): VaultConnection {
  return {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: {
      name,
      namespace: 'payments',
      ...(generations.generation === undefined ? {} : { generation: generations.generation }),
    },
    spec: { type: 'apiKey', ...spec },
    ...(conditions === undefined
      ? {}
      : {
          status: {
            conditions,
            ...(generations.observed === undefined ? {} : { observedGeneration: generations.observed }),
          },
        }),
  };
}

describe('stateOf', () => {
  it.each([
    ['Reconciling when there is no status yet', connection('a'), 'Reconciling'],
    [
      'Reconciling when Ready is Unknown',
      connection('a', {}, [condition('Ready', 'Unknown', 'Reconciling')]),
      'Reconciling',
    ],
    [
      'Reconciling when the status describes an older generation',
      connection('a', {}, [condition('Ready', 'True', 'TokenValid')], { generation: 3, observed: 2 }),
      'Reconciling',
    ],
    ['Ready when Ready is True', connection('a', {}, [condition('Ready', 'True', 'TokenValid')]), 'Ready'],
    [
      'Empty when Empty is True',
      connection('a', {}, [
        condition('Ready', 'False', 'SecretNotFound'),
        condition('Empty', 'True', 'SecretNotFound'),
      ]),
      'Empty',
    ],
    [
      'Expired when Expired is True',
      connection('a', {}, [
        condition('Ready', 'False', 'InvalidClient'),
        condition('Expired', 'True', 'InvalidClient'),
      ]),
      'Expired',
    ],
    [
      'Stalled when not Ready for another reason',
      connection('a', {}, [
        condition('Ready', 'False', 'TemplateError'),
        condition('Empty', 'False', 'CredentialsPresent'),
      ]),
      'Stalled',
    ],
  ])('should be %s', (_name, input, expected) => {
    expect(stateOf(input)).toBe(expected);
  });
});

describe('shareCounts', () => {
  it('counts connections on one client, audience and scopes together, and nothing else', () => {
    const onClient = (name: string, oauth2: Record<string, unknown>) =>
      connection(name, { type: 'oauth2', oauthClientRef: { name: 'acme' }, oauth2 });
    const list = [
      onClient('a', { audience: 'x', scopes: ['r', 'w'] }),
      onClient('b', { audience: 'x', scopes: ['w', 'r'] }),
      onClient('c', { audience: 'y', scopes: ['r', 'w'] }),
      onClient('d', { audience: 'x', scopes: ['r', 'w'], grant: 'refresh_token' }),
      connection('e', { type: 'auth0', credentialsRef: { name: 'm2m' }, auth0: { domain: 't.auth0.com' } }),
      connection('f', {
        type: 'auth0',
        credentialsRef: { name: 'm2m' },
        auth0: { domain: 't.auth0.com', audience: 'https://t.auth0.com/api/v2/' },
      }),
      connection('g'),
    ];
    expect(Object.fromEntries(shareCounts(list))).toEqual({
      'payments/a': 2,
      'payments/b': 2,
      'payments/c': 1,
      'payments/d': 1,
      'payments/e': 2,
      'payments/f': 2,
      'payments/g': 1,
    });
  });
});

describe('status rows and formatting', () => {
  it('carries the Ready message as the last error only when not Ready', () => {
    const [empty, ready] = statusRows([
      connection('crm', {}, [condition('Ready', 'False', 'SecretNotFound', 'Secret crm not found')]),
      connection('maps', {}, [condition('Ready', 'True', 'CredentialsPublished', 'published')]),
    ]);
    expect(empty).toMatchObject({ name: 'crm', lastError: 'Secret crm not found', secretName: 'crm-token' });
    expect(ready?.lastError).toBeUndefined();
  });

  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [190_000, '3m10s'],
    [600_000, '10m'],
    [7_500_000, '2h5m'],
    [273_600_000, '3d4h'],
  ])('prints %i ms as %s', (ms, text) => {
    expect(shortDuration(ms)).toBe(text);
  });

  it('prints times relative to now, and pads every column but the last', () => {
    const now = Date.parse(at);
    expect(relative('2026-12-01T10:01:00Z', now)).toBe('in 1m');
    expect(relative('2026-12-01T09:59:30Z', now)).toBe('30s ago');
    expect(relative(undefined, now)).toBe('-');
    expect(
      table(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', ''],
        ],
      ),
    ).toBe('A     BB\nxxx   y\nz\n');
  });
});
