import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../pipeline/cache/db.ts';
import type { CacheKeyInput } from '../../pipeline/cache/key.ts';
import { createCacheLookup, whatChanged } from '../../pipeline/cache/lookup.ts';
import { newOwnerId, UNPROVEN_OWNER_GRACE_MS } from '../../pipeline/cache/owner.ts';
import { RenderStore } from '../../pipeline/cache/renders.ts';
import { scene } from '../helpers/series.ts';

const inputs: CacheKeyInput = { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: 'p', order: 'meanwhile', resolution: '480p', seed: 42 };
const req = (key: string) => ({ key, inputs, episodeId: 'e', sceneId: 's', estimateUsd: 0.15 });

describe('render store and cache lookup', () => {
  it('a key held by a live process is busy for another; a dead owner frees it with its state', () => {
    const db = openDb(':memory:');
    let now = 1_000;
    // Owners on another host: only their lease tells whether they are alive.
    const a = new RenderStore(db, 'other-host:4242:1:aaaa', () => now, 30_000);
    const b = new RenderStore(db, `${hostname()}:${process.pid}::bbbb`, () => now, 30_000);
    expect(a.claim(req('k')).kind).toBe('claimed');
    expect(a.markSubmitting('k')).toBe(true);
    a.markInFlight('k', 'pred-1');
    expect(b.claim(req('k')).kind).toBe('busy');
    now += 31_000; // a's lease ran out (it stopped renewing)
    const taken = b.claim(req('k'));
    expect(taken).toMatchObject({ kind: 'claimed', row: { status: 'in-flight', prediction_id: 'pred-1' } });
    // A dead pid on this host frees the key at once, lease or not.
    const dead = new RenderStore(db, `${hostname()}:999999999::dead`, () => now, 30_000);
    expect(dead.claim(req('k2')).kind).toBe('claimed');
    expect(a.claim(req('k2')).kind).toBe('claimed');
  });

  it('a live process on this host keeps its claim past its lease (paused with SIGSTOP/Ctrl-Z is not dead)', () => {
    const db = openDb(':memory:');
    let now = 1_000;
    const paused = new RenderStore(db, newOwnerId(), () => now, 30_000);
    const other = new RenderStore(db, `${hostname()}:${process.pid}::other`, () => now, 30_000);
    expect(paused.claim(req('k')).kind).toBe('claimed');
    now += 10 * 60_000; // no heartbeat for ten minutes
    expect(other.claim(req('k')).kind).toBe('busy');
    // The same pid with another start time is a reused pid: the owner is gone.
    const parts = newOwnerId().split(':');
    const reused = new RenderStore(db, [parts[0], parts[1], '1', 'gone'].join(':'), () => now, 30_000);
    expect(reused.claim(req('k3')).kind).toBe('claimed');
    expect(other.claim(req('k3')).kind).toBe('claimed');
  });

  it('an owner of unknown start time (no /proc where it ran) keeps its claim past its lease only for a while: its pid may be reused', () => {
    const db = openDb(':memory:');
    let now = 1_000;
    const old = new RenderStore(db, `${hostname()}:${process.pid}::no-start`, () => now, 30_000);
    const next = new RenderStore(db, newOwnerId(), () => now, 30_000);
    expect(old.claim(req('k')).kind).toBe('claimed');
    now += 31_000;
    expect(next.claim(req('k')).kind).toBe('busy');
    now += UNPROVEN_OWNER_GRACE_MS;
    expect(next.claim(req('k')).kind).toBe('claimed');
  });

  it('marking "submitting" is a compare-and-set on the claim: a run that lost it cannot submit, and its id is never dropped', () => {
    const db = openDb(':memory:');
    let now = 1_000;
    const slow = new RenderStore(db, 'host-a:10:1:slow', () => now, 30_000);
    const fast = new RenderStore(db, 'host-b:20:1:fast', () => now, 30_000);
    expect(slow.claim(req('k')).kind).toBe('claimed');
    now += 31_000; // slow was partitioned or paused past its lease
    expect(fast.claim(req('k')).kind).toBe('claimed');
    expect(slow.markSubmitting('k')).toBe(false); // slow must not POST
    expect(fast.markSubmitting('k')).toBe(true);
    fast.markInFlight('k', 'pred-fast');
    expect(slow.get('k')).toMatchObject({ status: 'in-flight', prediction_id: 'pred-fast', owner: 'host-b:20:1:fast' });
    // A submit that was sent before the claim moved still records its id (losing it would mean paying again).
    expect(slow.claim(req('k2')).kind).toBe('claimed');
    expect(slow.markSubmitting('k2')).toBe(true);
    now += 31_000;
    expect(fast.claim(req('k2'))).toMatchObject({ kind: 'claimed', row: { status: 'submitting' } });
    fast.markFailed('k2', 'may have been billed', { status: 'ambiguous' });
    slow.markInFlight('k2', 'pred-late');
    expect(fast.get('k2')).toMatchObject({ status: 'in-flight', prediction_id: 'pred-late' });
  });

  it('a run that lost its claim cannot undo the new holder’s work: no write over a complete render or a row it no longer holds', () => {
    const db = openDb(':memory:');
    let now = 1_000;
    const paused = new RenderStore(db, 'host-a:10:1:paused', () => now, 30_000);
    const other = new RenderStore(db, 'host-b:20:1:other', () => now, 30_000);
    expect(paused.claim(req('k')).kind).toBe('claimed');
    now += 31_000;
    expect(other.claim(req('k')).kind).toBe('claimed');
    other.markSubmitting('k');
    other.markInFlight('k', 'pred-1');
    // While the other run holds it, the paused run's bookkeeping changes nothing.
    paused.markFailed('k', 'interrupted before submit');
    paused.release('k');
    expect(paused.get('k')).toMatchObject({ status: 'in-flight', owner: 'host-b:20:1:other' });
    other.markComplete('k', { path: '/c.mp4', sha256: 's', bytes: 1, videoSeconds: 1, billedSeconds: 5, costUsd: 0.15 }, 'pred-1');
    // Nor once the row is complete and free.
    paused.markFailed('k', 'interrupted before submit');
    paused.release('k');
    expect(paused.get('k')).toMatchObject({ status: 'complete', clip_path: '/c.mp4' });
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
    store.markFailed('k2', 'reset', { status: 'ambiguous' });
    expect(lookup('k2', inputs, scene('e', 's')).reason).toMatch(/may have been billed/);
  });
});
