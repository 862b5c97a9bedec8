import { describe, expect, it } from 'vitest';
import { recordKeySource } from '../../../src/kube/record-key-secret.ts';
import { createRecordKey } from '../../../src/secrets/record-key.ts';

describe('record key source', () => {
  it('should load once for every caller', async () => {
    let loads = 0;
    const key = createRecordKey(new Uint8Array(32));
    const source = recordKeySource(() => {
      loads += 1;
      return Promise.resolve(key);
    });
    expect(await Promise.all([source(), source(), source()])).toEqual([key, key, key]);
    expect(loads).toBe(1);
  });

  it('should try again after a failed load, never caching the failure', async () => {
    let loads = 0;
    const key = createRecordKey(new Uint8Array(32));
    const source = recordKeySource(() => {
      loads += 1;
      return loads === 1 ? Promise.reject(new Error('namespace not found')) : Promise.resolve(key);
    });
    await expect(source()).rejects.toThrow('namespace not found');
    expect(await source()).toBe(key);
    expect(loads).toBe(2);
  });
});
