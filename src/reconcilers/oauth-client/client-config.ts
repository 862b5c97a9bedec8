// An OAuthClient and its Secret, read into the OAuth engine's ClientConfig. Shared by the OAuthClient
// reconciler (to report Ready or Empty) and the VaultConnection reconciler (to request tokens).
import { DEFAULT_AUTH_METHOD } from '../../api/v1alpha1/oauth-client.ts';
import type { OAuthClient } from '../../api/v1alpha1/resources.ts';
import type { ClientConfig } from '../../oauth/index.ts';
import type { SecretReader } from '../../kube/secret-reader.ts';

export type ClientConfigResult =
  | { kind: 'ready'; config: ClientConfig; secretName: string }
  | { kind: 'empty'; reason: 'NoCredentialsRef' | 'SecretNotFound' | 'KeysMissing'; message: string }
  | { kind: 'cross-namespace'; message: string };

export async function readClientConfig(
  client: OAuthClient,
  secrets: SecretReader,
): Promise<ClientConfigResult> {
  const namespace = client.metadata.namespace ?? '';
  const spec = client.spec;
  const authMethod = spec.authMethod ?? DEFAULT_AUTH_METHOD;
  const usesKey = authMethod === 'private_key_jwt';
  const ref = usesKey ? spec.privateKeyRef : spec.clientSecretRef;
  const field = usesKey ? 'privateKeyRef' : 'clientSecretRef';
  if (ref === undefined) {
    return {
      kind: 'empty',
      reason: 'NoCredentialsRef',
      message: `spec.${field} is not set: the client has no credentials yet`,
    };
  }
  if (ref.namespace !== undefined && ref.namespace !== namespace) {
    return {
      kind: 'cross-namespace',
      message: `spec.${field}.namespace ${ref.namespace} differs from the client's namespace ${namespace}: references to other namespaces are refused`,
    };
  }
  const key = ref.key ?? (usesKey ? 'privateKey' : 'clientSecret');
  const read = await secrets.read(namespace, ref.name);
  if (!read.found)
    return { kind: 'empty', reason: 'SecretNotFound', message: `Secret ${ref.name} not found` };
  const value = read.data.get(key);
  if (value === undefined || value.isBlank) {
    return {
      kind: 'empty',
      reason: 'KeysMissing',
      message: `Secret ${ref.name} lacks the key ${key} (or it is blank)`,
    };
  }
  const base = {
    issuer: spec.issuer,
    ...(spec.tokenEndpoint === undefined ? {} : { tokenEndpoint: spec.tokenEndpoint }),
    ...(spec.revocationEndpoint === undefined ? {} : { revocationEndpoint: spec.revocationEndpoint }),
    authMethod,
    clientId: spec.clientId,
  };
  if (usesKey) {
    const keyId = read.data.get('keyId');
    return {
      kind: 'ready',
      secretName: ref.name,
      config: {
        ...base,
        privateKey: {
          pem: value,
          ...(keyId === undefined || keyId.isBlank ? {} : { keyId: keyId.reveal().trim() }),
          ...(spec.signingAlgorithm === undefined ? {} : { algorithm: spec.signingAlgorithm }),
        },
      },
    };
  }
  return { kind: 'ready', secretName: ref.name, config: { ...base, clientSecret: value } };
}
