import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../pipeline/cache/db.ts';
import type { CacheKeyInput } from '../../pipeline/cache/key.ts';
import { createCacheLookup, whatChanged } from '../../pipeline/cache/lookup.ts';
import { RenderStore } from '../../pipeline/cache/renders.ts';
import { scene } from '../helpers/series.ts';

const inputs: CacheKeyInput = { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: 'p', order: 'meanwhile', resolution: '480p', seed: 42 };
const req = (key: string) => ({ key, inputs, episodeId: 'e', sceneId: 's', estimateUsd: 0.15 });

describe('render store and cache lookup', () => {
  it('a key held by a live process is busy for another; a dead owner frees it with its state', () => {
    const db = openDb(':memory:');
    let now = 1_000;
    const a = new RenderStore(db, `${hostname()}:${process.pid}:aaaa`, () => now, 30_000);
    const b = new RenderStore(db, `${hostname()}:${process.pid}:bbbb`, () => now, 30_000);
    expect(a.claim(req('k')).kind).toBe('claimed');
    a.markSubmitting('k');
    a.markInFlight('k', 'pred-1');
    expect(b.claim(req('k')).kind).toBe('busy');
    now += 31_000; // a's lease ran out (it stopped renewing)
    const taken = b.claim(req('k'));
    expect(taken).toMatchObject({ kind: 'claimed', row: { status: 'in-flight', prediction_id: 'pred-1' } });
    // A dead pid on this host frees the key at once, lease or not.
    const dead = new RenderStore(db, `${hostname()}:999999999:dead`, () => now, 30_000);
    expect(dead.claim(req('k2')).kind).toBe('claimed');
    expect(a.claim(req('k2')).kind).toBe('claimed');
  });

  it('complete is a hit only while the clip is there and whole', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-store-'));
    const clip = path.join(dir, 'k.mp4');
    writeFileSync(clip, 'x'.repeat(100));
    const db = openDb(':memory:');
    const store = new RenderStore(db, 'h:1:x');
    store.claim(req('k'));
    store.markComplete('k', { path: clip, sha256: 'sha', bytes: 100, videoSeconds: 5, billedSeconds: 5, costUsd: 0.15 });
    const lookup = createCacheLookup(db);
    const sc = scene('e', 's');
    expect(lookup('k', inputs, sc)).toEqual({ status: 'hit' });
    writeFileSync(clip, 'x'.repeat(50));
    expect(lookup('k', inputs, sc)).toEqual({ status: 'miss', reason: 'clip damaged (size 50, recorded 100)' });
    rmSync(clip);
    expect(lookup('k', inputs, sc)).toEqual({ status: 'miss', reason: 'clip missing from the store' });
  });

  it('explains a miss by what changed since the scene last rendered', () => {
    const db = openDb(':memory:');
    const store = new RenderStore(db, 'h:1:x');
    store.recordSceneKey('e', 's', 'old', inputs);
    const lookup = createCacheLookup(db);
    expect(lookup('new', { ...inputs, seed: 43, left: 'l2' }, scene('e', 's'))).toEqual({ status: 'miss', reason: 'left audio changed, seed changed (42 → 43)' });
    expect(whatChanged(inputs, { ...inputs, prompt: 'q' })).toBe('prompt changed');
    expect(lookup('new', inputs, scene('other', 's'))).toEqual({ status: 'miss' });
  });

  it('an in-flight render is reported as such; an ambiguous one says it may have been billed', () => {
    const db = openDb(':memory:');
    const store = new RenderStore(db, 'h:1:x');
    store.claim(req('k'));
    store.markInFlight('k', 'pred-9');
    store.release('k');
    const lookup = createCacheLookup(db);
    expect(lookup('k', inputs, scene('e', 's'))).toEqual({ status: 'in-flight', reason: 'prediction pred-9' });
    store.claim(req('k2'));
    store.markFailed('k2', 'reset', 'ambiguous');
    expect(lookup('k2', inputs, scene('e', 's')).reason).toMatch(/may have been billed/);
  });
});
