// How the client authenticates at the token endpoint, always set explicitly (openid-client would
// otherwise guess from the metadata). Secrets are revealed per request, inside the ClientAuth callback,
// so the plain string exists only while the request body or header is built. A private key is imported
// once as a non-extractable CryptoKey. Configuration errors name the field, never its value.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { importPKCS8 } from 'jose';
import { ClientSecretBasic, ClientSecretPost, PrivateKeyJwt, type ClientAuth } from 'openid-client';
import { OAuthError } from './errors.ts';
import type { ClientConfig } from './types.ts';

type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

const KEY_ID = /^[\x21-\x7E]{1,256}$/;

export async function createClientAuth(client: ClientConfig): Promise<ClientAuth> {
  switch (client.authMethod) {
    case 'client_secret_post':
    case 'client_secret_basic': {
      const secret = client.clientSecret;
      if (secret === undefined || secret.isBlank) {
        throw new OAuthError('invalid_configuration', `clientSecret is required for ${client.authMethod}`);
      }
      const method = client.authMethod === 'client_secret_post' ? ClientSecretPost : ClientSecretBasic;
      return (as, metadata, body, headers) => {
        method(secret.reveal())(as, metadata, body, headers);
      };
    }
    case 'private_key_jwt': {
      const privateKey = client.privateKey;
      if (privateKey === undefined || privateKey.pem.isBlank) {
        throw new OAuthError('invalid_configuration', 'privateKey is required for private_key_jwt');
      }
      if (privateKey.keyId !== undefined && !KEY_ID.test(privateKey.keyId)) {
        throw new OAuthError('invalid_configuration', 'privateKey keyId must be 1-256 printable characters');
      }
      const { key } = await importSigningKey(privateKey.pem.reveal(), privateKey.algorithm);
      return PrivateKeyJwt(privateKey.keyId === undefined ? key : { key, kid: privateKey.keyId });
    }
  }
}

/** Imports a PEM private key (PKCS#8; PKCS#1 and SEC1 are converted) for signing with `algorithm`. */
export async function importSigningKey(
  pem: string,
  configuredAlgorithm?: string,
): Promise<{ key: SigningKey; algorithm: string }> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new OAuthError('invalid_configuration', 'privateKey is not a PEM private key');
  }
  const algorithm = configuredAlgorithm ?? algorithmFor(keyObject);
  if (algorithm === undefined) {
    throw new OAuthError(
      'invalid_configuration',
      `privateKey type ${keyObject.asymmetricKeyType ?? 'unknown'} has no default algorithm: set signingAlgorithm`,
    );
  }
  const pkcs8 = pem.includes('-----BEGIN PRIVATE KEY-----')
    ? pem
    : (keyObject.export({ type: 'pkcs8', format: 'pem' }) as string);
  try {
    return { key: await importPKCS8(pkcs8, algorithm, { extractable: false }), algorithm };
  } catch {
    throw new OAuthError('invalid_configuration', `privateKey cannot sign with ${algorithm}`);
  }
}

function algorithmFor(key: KeyObject): string | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ed25519':
      return 'EdDSA';
    case 'ec':
      switch (key.asymmetricKeyDetails?.namedCurve) {
        case 'prime256v1':
        case 'P-256':
          return 'ES256';
        case 'secp384r1':
        case 'P-384':
          return 'ES384';
        case 'secp521r1':
        case 'P-521':
          return 'ES512';
        default:
          return undefined;
      }
    default:
      return undefined;
  }
}
