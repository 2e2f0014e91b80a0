/** The plan's view of the cache (readCacheLookup), over a store: hit, in flight, or miss and why. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { readCacheLookup, whatChanged } from '../../pipeline/cache/lookup.ts';
import { newOwnerId } from '../../pipeline/cache/owner.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import type { CacheKeyInput } from '../../pipeline/plan/key.ts';
import { scene } from '../helpers/series.ts';

const inputs: CacheKeyInput = { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: 'p', order: 'meanwhile', resolution: '480p', seed: 42 };

const req = (key: string) => ({ key, inputs, episodeId: 'e', sceneId: 's', estimateUsd: 0.15 });
const stores: Store[] = [];
/** One cache per test; each open is another run on it. */
let cacheDir: string;
beforeEach(() => {
  cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-lookup-'));
});
const open = async (owner = 'h:1:x') => {
  const store = await openStore({ dir: cacheDir, owner });
  stores.push(store);
  return store;
};
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
/** The lookup the plan of these keys (all scene e/s, unless given) would get. */
const lookupOf = (store: Store, keys: string[], sc = scene('e', 's')) => readCacheLookup(store.renders, keys.map((key) => ({ key, spec: sc })));

describe('cache lookup', () => {
  it('complete is a hit only while the clip is there and whole', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-store-'));
    const clip = path.join(dir, 'k.mp4');
    writeFileSync(clip, 'x'.repeat(100));
    const store = await open();
    await store.renders.claim(req('k'));
    await store.renders.markComplete('k', { path: clip, sha256: 'sha', bytes: 100, videoSeconds: 5, billedSeconds: 5, costUsd: 0.15 });
    const lookup = await lookupOf(store, ['k']);
    const sc = scene('e', 's');
    expect(lookup('k', inputs, sc)).toEqual({ status: 'hit' });
    writeFileSync(clip, 'x'.repeat(50));
    expect(lookup('k', inputs, sc)).toEqual({ status: 'miss', reason: 'clip damaged (size 50, recorded 100)' });
    rmSync(clip);
    expect(lookup('k', inputs, sc)).toEqual({ status: 'miss', reason: 'clip missing from the store' });
  });

  it('explains a miss by what changed since the scene last rendered', async () => {
    const store = await open();
    await store.renders.recordSceneKey('e', 's', 'old', inputs);
    expect((await lookupOf(store, ['new']))('new', { ...inputs, seed: 43, left: 'l2' }, scene('e', 's'))).toEqual({ status: 'miss', reason: 'left audio changed, seed changed (42 → 43)' });
    expect(whatChanged(inputs, { ...inputs, prompt: 'q' })).toBe('prompt changed');
    expect((await lookupOf(store, ['new'], scene('other', 's')))('new', inputs, scene('other', 's'))).toEqual({ status: 'miss' });
  });

  it('an in-flight render is reported as such (or one a live run works on); an ambiguous one says it may have been billed; a refused clip keeps its length', async () => {
    const store = await open();
    await store.renders.claim(req('k'));
    await store.renders.markInFlight('k', 'pred-9');
    await store.renders.release('k');
    await store.renders.claim(req('k2'));
    await store.renders.markFailed('k2', 'reset', { status: 'ambiguous' });
    await store.renders.claim(req('k3'));
    await store.renders.markFailed('k3', 'the delivered clip lasts 9.00 s', { paid: { deliveredSeconds: 9 } });
    const live = await open(newOwnerId());
    await live.renders.claim(req('k4'));
    const lookup = await lookupOf(store, ['k', 'k2', 'k3', 'k4']);
    expect(lookup('k', inputs, scene('e', 's'))).toEqual({ status: 'in-flight', reason: 'prediction pred-9' });
    expect(lookup('k2', inputs, scene('e', 's')).reason).toMatch(/may have been billed/);
    expect(lookup('k3', inputs, scene('e', 's'))).toEqual({ status: 'miss', reason: 'last attempt failed: the delivered clip lasts 9.00 s', refusedSeconds: 9 });
    expect(lookup('k4', inputs, scene('e', 's'))).toEqual({ status: 'in-flight', reason: 'another run is rendering it' });
  });
});
