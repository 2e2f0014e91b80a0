/**
 * Two stores on one cache in one process (two `render()` calls of the
 * library, or a run and a `status` query of a host program): SQLite's
 * file lock cannot be waited for asynchronously, so while one store's
 * transaction is open across an await, the other store's statement blocked
 * the whole process for the busy timeout (10 s) and then failed with
 * "database is locked" (E_CACHE: the run stopped). The two connections now
 * take turns instead.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { INPUTS } from './contract.ts';

const claim = (key: string) => ({ key, inputs: INPUTS, episodeId: 'e', sceneId: key, estimateUsd: 0.15 });

describe('two stores on one cache in one process', () => {
  it("a call of one waits for the other's open transaction instead of failing with 'database is locked'", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-two-stores-'));
    const a = await openStore({ dir, owner: 'host-a:1:1:a' });
    const b = await openStore({ dir, owner: 'host-b:2:2:b' });
    await a.renders.claim(claim('ka'));
    // A's transaction is open across its awaits (a submit's mark and its ledger row) …
    const inA = a.transaction(async (tx) => {
      expect(await tx.renders.markSubmitting('ka', '{}')).toBe(true);
      await tx.renders.markPending('ka');
    });
    // … when B, in the same process, claims another key.
    const inB = b.renders.claim(claim('kb'));
    const [ra, rb] = await Promise.allSettled([inA, inB]);
    expect(ra.status).toBe('fulfilled');
    expect(rb).toMatchObject({ status: 'fulfilled', value: { kind: 'claimed' } });
    expect((await a.renders.get('kb'))?.owner).toBe('host-b:2:2:b');
    await Promise.all([a.close(), b.close()]);
  });

  it("B's write made while A's transaction is open is not rolled back with A's", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-two-stores-'));
    const a = await openStore({ dir, owner: 'host-a:1:1:a' });
    const b = await openStore({ dir, owner: 'host-b:2:2:b' });
    await a.renders.claim(claim('ka'));
    const inA = a.transaction(async (tx) => {
      await tx.renders.markSubmitting('ka', '{}');
      throw new Error('A gives up');
    });
    const inB = b.renders.claim(claim('kb'));
    const [ra, rb] = await Promise.allSettled([inA, inB]);
    expect(ra).toMatchObject({ status: 'rejected', reason: { message: 'A gives up' } });
    expect(rb.status).toBe('fulfilled');
    expect(await b.renders.get('ka')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await a.renders.get('kb')).toMatchObject({ status: 'pending', owner: 'host-b:2:2:b' });
    await Promise.all([a.close(), b.close()]);
  });
});
