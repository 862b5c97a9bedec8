// Where the record key lives: a Secret in the operator's own namespace that only the operator reads
// (its Role names it). Every replica uses the same key, so a standby that takes over trusts what the
// previous leader published and a restart mints nothing. Created on first start by whichever replica
// gets there first; the others read the winner's.
import { randomBytes } from 'node:crypto';
import { isKubeApiError, type KubeHttp } from '../controller/kube-http.ts';
import { CoffreError } from '../errors.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/v1alpha1/metadata-keys.ts';
import { RECORD_KEY_BYTES, createRecordKey, type RecordKey } from '../secrets/record-key.ts';

export const RECORD_KEY_DATA_KEY = 'key';

export class RecordKeyError extends CoffreError {
  constructor(message: string, cause?: unknown) {
    super('record_key_unavailable', message, {
      // Retried with the controller's backoff: the namespace may appear, RBAC may be fixed.
      retryable: true,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

interface SecretBody {
  data?: Record<string, string>;
}

const secretPath = (namespace: string, name?: string) =>
  `/api/v1/namespaces/${namespace}/secrets${name === undefined ? '' : `/${name}`}`;

function keyFrom(secret: SecretBody, where: string): RecordKey {
  const encoded = secret.data?.[RECORD_KEY_DATA_KEY];
  const bytes = encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
  if (bytes === undefined || bytes.length < 16) {
    throw new RecordKeyError(
      `Secret ${where} has no usable key \`${RECORD_KEY_DATA_KEY}\` (at least 16 bytes): delete it and coffre creates a new one (every token is then minted again once)`,
    );
  }
  return createRecordKey(bytes);
}

/** Reads the record key, creating it if it does not exist yet. */
export async function loadRecordKey(http: KubeHttp, namespace: string, name: string): Promise<RecordKey> {
  const where = `${namespace}/${name}`;
  const read = async () => keyFrom(await http.json<SecretBody>(secretPath(namespace, name)), where);
  try {
    return await read();
  } catch (error) {
    if (!isKubeApiError(error, 404)) throw wrap(error, where);
  }
  try {
    const created = await http.json<SecretBody>(secretPath(namespace), {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, 'coffre.dev/role': 'record-key' },
        },
        type: 'Opaque',
        data: { [RECORD_KEY_DATA_KEY]: randomBytes(RECORD_KEY_BYTES).toString('base64') },
      }),
    });
    return keyFrom(created, where);
  } catch (error) {
    if (!isKubeApiError(error, 409)) throw wrap(error, where);
  }
  // Another replica created it between our read and our create: use theirs.
  try {
    return await read();
  } catch (error) {
    throw wrap(error, where);
  }
}

function wrap(error: unknown, where: string): unknown {
  if (error instanceof RecordKeyError) return error;
  if (isKubeApiError(error, 404)) {
    const namespace = where.split('/')[0] ?? '';
    return new RecordKeyError(
      `the record key Secret ${where} cannot be created: namespace "${namespace}" does not exist; create it (kubectl create namespace ${namespace}) or set --leader-election-namespace (POD_NAMESPACE) to the operator's namespace`,
      error,
    );
  }
  if (isKubeApiError(error, 403)) {
    return new RecordKeyError(
      `the record key Secret ${where} cannot be read or created: forbidden (the chart's Role grants get on it and create on Secrets in the operator's namespace)`,
      error,
    );
  }
  return error;
}

/**
 * The record key, loaded once on first use and shared by every reconcile; a failed load is tried again
 * by the next caller (the namespace may appear, RBAC may be fixed), never cached.
 */
export function recordKeySource(load: () => Promise<RecordKey>): () => Promise<RecordKey> {
  let pending: Promise<RecordKey> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
