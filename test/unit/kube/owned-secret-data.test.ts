import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { OwnedSecretData, isWholeSecret } from '../../../src/kube/owned-secret-data.ts';

const secretAt = (resourceVersion: string): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { namespace: 'payments', name: 'api-token', resourceVersion, labels: { a: 'b' } },
  type: 'Opaque',
  data: { access_token: Buffer.from(`token@${resourceVersion}`).toString('base64') },
});
/** What the metadata-only watch reports of that version. */
const metaAt = (resourceVersion: string): V1Secret => ({
  apiVersion: 'meta.k8s.io/v1',
  kind: 'PartialObjectMetadata',
  metadata: secretAt(resourceVersion).metadata ?? {},
});

function fakePort(live: () => V1Secret | undefined) {
  let gets = 0;
  return {
    port: {
      getSecret: () => {
        gets += 1;
        return Promise.resolve(live());
      },
    },
    gets: () => gets,
  };
}

describe('owned Secret data', () => {
  it('should read a version once, then serve it from memory', async () => {
    const { port, gets } = fakePort(() => secretAt('5'));
    const data = new OwnedSecretData(port);
    expect((await data.get(metaAt('5')))?.metadata?.resourceVersion).toBe('5');
    // From memory: the watch's metadata and the kept data half, the same Secret.
    expect(await data.get(metaAt('5'))).toEqual(secretAt('5'));
    expect(gets()).toBe(1);
  });

  it('should read again when the watch reports a newer version', async () => {
    let version = '5';
    const { port, gets } = fakePort(() => secretAt(version));
    const data = new OwnedSecretData(port);
    await data.get(metaAt('5'));
    version = '6';
    expect((await data.get(metaAt('6')))?.metadata?.resourceVersion).toBe('6');
    expect(gets()).toBe(2);
  });

  it('should not read what coffre wrote itself', async () => {
    const { port, gets } = fakePort(() => secretAt('9'));
    const data = new OwnedSecretData(port);
    data.remember(secretAt('9'));
    expect((await data.get(metaAt('9')))?.data).toEqual(secretAt('9').data);
    expect(gets()).toBe(0);
  });

  it('should hold nothing for a Secret that is gone, or forgotten', async () => {
    const { port } = fakePort(() => undefined);
    const data = new OwnedSecretData(port);
    data.remember(secretAt('1'));
    expect(await data.get(metaAt('2'))).toBeUndefined();
    expect(data.size).toBe(0);
    data.remember(secretAt('3'));
    data.forget('payments', 'api-token');
    expect(data.size).toBe(0);
  });

  it('should tell a whole Secret from its metadata', () => {
    expect(isWholeSecret(secretAt('1'))).toBe(true);
    expect(isWholeSecret({ metadata: {} } as V1Secret)).toBe(false);
    expect(isWholeSecret(undefined)).toBe(false);
  });
});
