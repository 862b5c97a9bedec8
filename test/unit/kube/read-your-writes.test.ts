import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { ReadYourWrites } from '../../../src/kube/read-your-writes.ts';

interface Obj {
  metadata: { namespace: string; name: string; uid: string; resourceVersion: string };
  status?: string;
}

const obj = (resourceVersion: string, status?: string, uid = 'u1'): Obj => ({
  metadata: { namespace: 'ns', name: 'a', uid, resourceVersion },
  ...(status === undefined ? {} : { status }),
});

function setup(absentMeansGone: boolean) {
  const cache = new Map<string, Obj>();
  const clock = new FakeClock();
  const view = new ReadYourWrites<Obj>({ get: (key) => cache.get(key) }, clock, { absentMeansGone });
  return { cache, clock, view };
}

describe('ReadYourWrites', () => {
  it('answers from the cache when nothing was written', () => {
    const { cache, view } = setup(true);
    cache.set('ns/a', obj('5'));
    expect(view.get('ns/a')?.metadata.resourceVersion).toBe('5');
    expect(view.get('ns/b')).toBeUndefined();
  });

  it('answers with the written copy while the cache still holds an older version', () => {
    const { cache, view } = setup(true);
    cache.set('ns/a', obj('5', 'old'));
    view.wrote(obj('7', 'new'));
    expect(view.get('ns/a')?.status).toBe('new');
    cache.set('ns/a', obj('7', 'new'));
    expect(view.get('ns/a')?.metadata.resourceVersion).toBe('7');
  });

  it('prefers the cache once it holds a newer version than the write (someone else changed it)', () => {
    const { cache, view } = setup(true);
    cache.set('ns/a', obj('5', 'old'));
    view.wrote(obj('7', 'ours'));
    cache.set('ns/a', obj('9', 'theirs'));
    expect(view.get('ns/a')?.status).toBe('theirs');
    // The memo is dropped: an older cache entry later cannot bring it back.
    cache.set('ns/a', obj('6', 'older'));
    expect(view.get('ns/a')?.status).toBe('older');
  });

  it('prefers the cache when the object was deleted and created again (another uid)', () => {
    const { cache, view } = setup(false);
    view.wrote(obj('7', 'ours', 'u1'));
    cache.set('ns/a', obj('3', 'recreated', 'u2'));
    expect(view.get('ns/a')?.status).toBe('recreated');
  });

  it('a missing cache entry is a create not yet seen, or a deletion, as configured', () => {
    const secrets = setup(false);
    secrets.view.wrote(obj('7', 'created'));
    expect(secrets.view.get('ns/a')?.status).toBe('created');

    const connections = setup(true);
    connections.cache.set('ns/a', obj('5'));
    connections.view.wrote(obj('7', 'patched'));
    connections.cache.delete('ns/a');
    expect(connections.view.get('ns/a')).toBeUndefined();
  });

  it('forgets a written copy after ten seconds, so a lost watch event cannot pin it', async () => {
    const { cache, clock, view } = setup(false);
    cache.set('ns/a', obj('5', 'old'));
    view.wrote(obj('7', 'new'));
    await clock.advance(9_999);
    expect(view.get('ns/a')?.status).toBe('new');
    await clock.advance(1);
    expect(view.get('ns/a')?.status).toBe('old');
  });

  it('compares numeric resourceVersions as numbers, not strings', () => {
    const { cache, view } = setup(true);
    cache.set('ns/a', obj('99', 'old'));
    view.wrote(obj('100', 'new'));
    expect(view.get('ns/a')?.status).toBe('new');
  });

  it('drops stale copies of objects that are never read again', async () => {
    const { clock, view } = setup(false);
    view.wrote({ ...obj('7'), metadata: { ...obj('7').metadata, name: 'gone' } });
    await clock.advance(10_000);
    view.wrote(obj('8'));
    expect(view.size).toBe(1);
    expect(view.get('ns/a')?.metadata.resourceVersion).toBe('8');
  });

  it('drops a written copy as soon as the informer reports that version or a newer one', () => {
    const { cache, view } = setup(false);
    let handlers: { onAdd?(o: Obj): void; onUpdate?(old: Obj, o: Obj): void } = {};
    view.follow({ addHandlers: (h) => (handlers = h) });
    view.wrote(obj('7', 'written'));
    // An older version arriving (the watch is behind) keeps the copy.
    handlers.onUpdate?.(obj('5'), obj('6'));
    expect(view.size).toBe(1);
    cache.set('ns/a', obj('7', 'watched'));
    handlers.onUpdate?.(obj('6'), obj('7', 'watched'));
    expect(view.size).toBe(0);
    expect(view.get('ns/a')?.status).toBe('watched');
    // Another object under the name (a new uid) ends it too.
    view.wrote(obj('9'));
    handlers.onAdd?.(obj('3', undefined, 'u2'));
    expect(view.size).toBe(0);
  });

  it('recognises its own write coming back, from every informer, until a later version or ten seconds', async () => {
    const { clock, view } = setup(false);
    let handlers: { onAdd?(o: Obj): void; onUpdate?(old: Obj, o: Obj): void } = {};
    view.follow({ addHandlers: (h) => (handlers = h) });
    // Metadata only, as the every-Secret informer keeps it: no uid.
    const trimmed = (resourceVersion: string) => ({
      metadata: { namespace: 'ns', name: 'a', resourceVersion },
    });
    // No write is on the wire here, so claim() holds nothing: true means "our own version".
    const isOwnWrite = (object: { metadata: { namespace: string; name: string; resourceVersion: string } }) =>
      view.claim(object, () => {
        throw new Error('nothing should be held');
      });
    expect(isOwnWrite(obj('7'))).toBe(false);
    view.wrote(obj('7', 'written'));
    expect(isOwnWrite(obj('6'))).toBe(false);
    expect(isOwnWrite(obj('7'))).toBe(true);
    // The first informer's echo drops the memo, not the record: the second informer's echo is known too.
    handlers.onAdd?.(obj('7'));
    expect(view.size).toBe(0);
    expect(isOwnWrite(trimmed('7'))).toBe(true);
    expect(isOwnWrite({ metadata: { namespace: 'ns', name: 'b', resourceVersion: '7' } })).toBe(false);
    // Someone else's later version ends it.
    handlers.onUpdate?.(obj('7'), obj('8'));
    expect(isOwnWrite(obj('7'))).toBe(false);
    expect(isOwnWrite(obj('8'))).toBe(false);
    // And time does, for an echo that never came.
    view.wrote(obj('9'));
    await clock.advance(10_000);
    expect(isOwnWrite(obj('9'))).toBe(false);
  });

  it('holds the events of a write on the wire until its response names its version', async () => {
    const { view } = setup(false);
    const released: string[] = [];
    const event = (resourceVersion: string) =>
      view.claim(obj(resourceVersion), () => released.push(resourceVersion));
    // No write on the wire, nothing written: not ours.
    expect(event('5')).toBe(false);
    let answer: (written: Obj) => void = () => undefined;
    const write = view.writing('ns/a', async () => {
      const written = await new Promise<Obj>((resolve) => (answer = resolve));
      view.wrote(written);
      return written;
    });
    // The watch reports our write (7) and then someone else's (8) before the response arrives.
    expect(event('7')).toBe(true);
    expect(event('8')).toBe(true);
    // Another key is not held.
    expect(
      view.claim({ metadata: { namespace: 'ns', name: 'b', resourceVersion: '7' } }, () => undefined),
    ).toBe(false);
    answer(obj('7'));
    await write;
    expect(released).toEqual(['8']);
    // After the write, its echo is recognised at once.
    expect(event('7')).toBe(true);
    expect(released).toEqual(['8']);
  });

  it('releases every held event when the write fails', async () => {
    const { view } = setup(false);
    const released: string[] = [];
    const failed = view.writing('ns/a', async () => {
      view.claim(obj('7'), () => released.push('7'));
      await Promise.resolve();
      throw new Error('refused');
    });
    await expect(failed).rejects.toThrow('refused');
    expect(released).toEqual(['7']);
  });
});
