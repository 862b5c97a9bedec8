import { describe, expect, it } from 'vitest';
import { CoffreError } from '../../../src/errors.ts';
import { OAuthError } from '../../../src/oauth/index.ts';
import {
  evaluateClient,
  nextCheck,
  RECHECK_MS,
  type ClientFindings,
} from '../../../src/reconcilers/oauth-client/policy.ts';
import type { OAuthClient } from '../../../src/api/v1alpha1/resources.ts';

const client = {
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'OAuthClient',
  metadata: { namespace: 'payments', name: 'calendar', uid: 'uid-calendar', generation: 1 },
  spec: {
    issuer: 'https://accounts.example.com/',
    clientId: 'calendar',
    clientSecretRef: { name: 'calendar' },
  },
} as OAuthClient;
const resolved = {
  tokenEndpoint: 'https://accounts.example.com/oauth2/token',
  authMethod: 'client_secret_basic' as const,
  warnings: [],
};

describe('evaluateClient', () => {
  it.each<[string, ClientFindings, string[], boolean]>([
    [
      'should report InvalidSpec while the spec does not validate',
      {
        kind: 'invalid-spec',
        validation: { ok: false, problems: [{ field: 'spec.issuer', message: 'must be https' }] },
      },
      [
        'Ready=False/InvalidSpec',
        'Empty=Unknown/InvalidSpec',
        'Reconciling=False/InvalidSpec',
        'Stalled=True/InvalidSpec',
      ],
      false,
    ],
    [
      'should report Empty while the client Secret is missing',
      {
        kind: 'unusable',
        config: { kind: 'empty', reason: 'SecretNotFound', message: 'Secret x not found' },
      },
      [
        'Ready=False/SecretNotFound',
        'Empty=True/SecretNotFound',
        'Reconciling=False/SecretNotFound',
        'Stalled=False/SecretNotFound',
      ],
      false,
    ],
    [
      'should refuse a clientSecretRef to another namespace',
      { kind: 'unusable', config: { kind: 'cross-namespace', message: 'other namespace' } },
      [
        'Ready=False/CrossNamespaceReference',
        'Empty=Unknown/CrossNamespaceReference',
        'Reconciling=False/CrossNamespaceReference',
        'Stalled=True/CrossNamespaceReference',
      ],
      false,
    ],
    [
      'should report Ready once the token endpoint is resolved',
      { kind: 'resolved', resolved },
      [
        'Ready=True/ClientReady',
        'Empty=False/CredentialsPresent',
        'Reconciling=False/ClientReady',
        'Stalled=False/ClientReady',
      ],
      false,
    ],
    [
      'should report an unreachable issuer as DiscoveryFailed, and retry',
      { kind: 'unresolved', error: new OAuthError('network', 'connect ECONNREFUSED') },
      [
        'Ready=False/DiscoveryFailed',
        'Empty=False/CredentialsPresent',
        'Reconciling=True/DiscoveryFailed',
        'Stalled=False/DiscoveryFailed',
      ],
      true,
    ],
    [
      'should report a refused endpoint as EndpointRefused, without retrying',
      { kind: 'unresolved', error: new OAuthError('endpoint_refused', '10.0.0.1 is private') },
      [
        'Ready=False/EndpointRefused',
        'Empty=False/CredentialsPresent',
        'Reconciling=False/EndpointRefused',
        'Stalled=True/EndpointRefused',
      ],
      false,
    ],
    [
      'should report an unusable key as InvalidCredentials',
      {
        kind: 'unresolved',
        error: new CoffreError('invalid_configuration', 'the key does not parse', { retryable: false }),
      },
      [
        'Ready=False/InvalidCredentials',
        'Empty=False/CredentialsPresent',
        'Reconciling=False/InvalidCredentials',
        'Stalled=True/InvalidCredentials',
      ],
      false,
    ],
  ])('%s', (_title, findings, conditions, retry) => {
    const evaluation = evaluateClient(client, findings);
    expect(evaluation.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(conditions);
    expect(evaluation.retry).toBe(retry);
  });

  it('should record the resolved endpoints and the server’s warnings', () => {
    const evaluation = evaluateClient(client, {
      kind: 'resolved',
      resolved: {
        ...resolved,
        revocationEndpoint: 'https://accounts.example.com/oauth2/revoke',
        warnings: ['the server does not list client_secret_basic'],
      },
    });
    expect(evaluation.fields).toEqual({
      tokenEndpoint: resolved.tokenEndpoint,
      revocationEndpoint: 'https://accounts.example.com/oauth2/revoke',
      authMethod: 'client_secret_basic',
    });
    expect(evaluation.conditions[0]?.message).toBe(
      `token endpoint ${resolved.tokenEndpoint} (the server does not list client_secret_basic)`,
    );
  });

  it('should report the configured auth method before the endpoint is known', () => {
    const findings: ClientFindings = {
      kind: 'unusable',
      config: { kind: 'empty', reason: 'NoCredentialsRef', message: 'no ref' },
    };
    expect(evaluateClient(client, findings).fields).toEqual({ authMethod: 'client_secret_basic' });
  });
});

describe('nextCheck', () => {
  it.each<[string, boolean, number, number, number | undefined]>([
    ['should look again hourly while Ready', true, 0, 0, RECHECK_MS],
    ['should wait for a change while not Ready without a retryable failure', false, 0, 0, undefined],
    ['should back off 2.5–5 s after a first retryable failure', false, 1, 0, 2500],
    ['should double the backoff with each failure', false, 3, 1, 20_000],
    ['should cap the backoff at 10 minutes', false, 40, 1, 600_000],
  ])('%s', (_title, ready, failures, random, expected) => {
    expect(nextCheck(ready, failures, () => random)).toBe(expected);
  });
});
