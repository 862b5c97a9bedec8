// Builders for the VaultConnection policy tables: a connection, the snapshot gather would return for
// it, and a target Secret that coffre published earlier.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultConnection } from '../../../../src/api/v1alpha1/resources.ts';
import type { VaultConnectionSpec } from '../../../../src/api/v1alpha1/vault-connection.ts';
import { createValidators } from '../../../../src/api/validation.ts';
import type { ClientConfig, TokenSet } from '../../../../src/oauth/index.ts';
import { createProviderRegistry } from '../../../../src/providers/registry.ts';
import { createRecordKey } from '../../../../src/secrets/record-key.ts';
import { secret } from '../../../../src/secrets/secret-value.ts';
import type { Observed, RetryState, Sources } from '../../../../src/reconcilers/vault-connection/gather.ts';
import {
  planFor,
  requestHash,
  targetName,
  type PolicyEnv,
} from '../../../../src/reconcilers/vault-connection/policy.ts';
import type { PendingRotation } from '../../../../src/reconcilers/vault-connection/state-secret.ts';
import {
  desiredTarget,
  targetSecretObject,
  type PublishedRecord,
} from '../../../../src/reconcilers/vault-connection/target-secret.ts';
import { FakeClock } from '../../../support/fake-clock.ts';

export const validators = createValidators();
export const clock = new FakeClock();
export const now = clock.now();
/** The operator's record key in these tables. */
export const recordKey = createRecordKey(new Uint8Array(32).fill(9));
export const env: PolicyEnv = {
  now,
  providers: createProviderRegistry(),
  providersConfig: {
    slackApiBaseUrl: 'https://slack.com/api',
    shopifyBaseUrl: 'https://{shop}/admin',
    zendeskBaseUrl: 'https://{subdomain}.zendesk.com',
    twilioOAuthBaseUrl: 'https://oauth.twilio.com',
  },
  recordKey,
};

export const auth0Spec: VaultConnectionSpec = {
  type: 'auth0',
  credentialsRef: { name: 'm2m' },
  auth0: { domain: 'acme.eu.auth0.com', scopes: ['read:users'] },
};

export function vaultConnection(
  spec: VaultConnectionSpec = auth0Spec,
  annotations?: Record<string, string>,
): VaultConnection {
  return {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: {
      namespace: 'payments',
      name: 'auth0-management',
      uid: 'uid-auth0-management',
      generation: 1,
      ...(annotations === undefined ? {} : { annotations }),
    },
    spec,
  };
}

export function credentials(values: Record<string, string>): Sources['credentials'] {
  return {
    found: true,
    resourceVersion: '1',
    data: new Map(Object.entries(values).map(([key, value]) => [key, secret(value)])),
  };
}

export const m2mCredentials = credentials({ clientId: 'client-a', clientSecret: 'secret-a' });

export const clientConfig: ClientConfig = {
  issuer: 'https://accounts.example.com/',
  tokenEndpoint: 'https://accounts.example.com/oauth2/token',
  authMethod: 'client_secret_basic',
  clientId: 'calendar',
  clientSecret: secret('client-secret'),
};

export interface ObservedOptions {
  sources?: Sources;
  target?: V1Secret;
  state?: V1Secret;
  retry?: RetryState;
  pendingRotation?: PendingRotation;
}

/** The snapshot gather returns; sources default to the m2m credentials for connections that pass preflight. */
export function observe(connection: VaultConnection, options: ObservedOptions = {}): Observed {
  return {
    connection,
    validation: validators.vaultConnection(connection),
    targetName: targetName(connection),
    target: options.target,
    state: options.state,
    sources: options.sources ?? { credentials: m2mCredentials, oauthClient: undefined },
    retry: options.retry,
    pendingRotation: options.pendingRotation,
  };
}

/** The hash the policy computes for this snapshot's token request. */
export function hashOf(observed: Observed): string {
  const planned = planFor(observed, env);
  if (!('plan' in planned) || planned.plan.kind !== 'token') throw new Error('not a token connection');
  return requestHash(observed.connection, planned.plan, planned.seed);
}

/** A target Secret as coffre writes it, holding `accessToken` with the given record. */
export function publishedTarget(
  connection: VaultConnection,
  record: Omit<PublishedRecord, 'dataHash'>,
  accessToken = 'token-1',
): V1Secret {
  const template = connection.spec.target?.template;
  const data = new Map([
    ['access_token', secret(accessToken)],
    ['token_type', secret('Bearer')],
  ]);
  const desired = desiredTarget(targetName(connection), data, template, record);
  return {
    ...targetSecretObject(connection, desired, template, undefined, recordKey),
    metadata: {
      ...targetSecretObject(connection, desired, template, undefined, recordKey).metadata,
      resourceVersion: '7',
    },
  };
}

/** A token as the engine returns it. */
export function token(overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: secret('token-2'),
    tokenType: 'Bearer',
    issuedAt: now,
    expiresAt: now + 3_600_000,
    ...overrides,
  };
}
