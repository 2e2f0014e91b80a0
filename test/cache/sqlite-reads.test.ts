/**
 * The SQLite store's reads never take the write lock (only its writes join
 * the group commit): a command that only looks (`status`, `plan`) works on a
 * cache it cannot write, and never waits on a busy writer's lock.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';
import { METHOD_KINDS, storeOn } from '../../pipeline/cache/sqlite/store.ts';

/** Plausible arguments for each read (any will do: the check is that none needs to write). */
const ARGS: Record<string, unknown[]> = {
  get: ['k'],
  getMany: [['k']],
  predictionIds: ['k'],
  lastSceneKeys: [[{ episodeId: 'e', sceneId: 's' }]],
  run: [undefined, 'wavespeed'],
  charges: [{ id: 1, provider: 'wavespeed', started_at: 0, finished_at: null }],
  knowsPrediction: ['p'],
  rendersByKeyPrefix: ['ab'],
  recentRuns: [5],
  workers: [5],
  heldRenders: [2],
};

describe('SQLite store reads', () => {
  it('every method listed as a read works on a connection that cannot write; a write is refused there (E_CACHE)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-reads-'));
    const db = openDb(dir);
    const store = storeOn(db, { dir });
    db.pragma('query_only = ON'); // as a cache on a read-only disk: SQLite refuses every write, BEGIN IMMEDIATE included
    const stats = statSync(dir);
    const parts: Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> = {
      renders: store.renders as never,
      ledger: store.ledger as never,
      files: store.files as never,
      uploads: store.uploads('wavespeed') as never,
      admin: store.admin as never,
      stitches: store.stitches as never,
    };
    const reads: string[] = [];
    for (const [part, kinds] of Object.entries(METHOD_KINDS)) {
      for (const [name, kind] of Object.entries(kinds)) {
        if (kind !== 'read') continue;
        const args = part === 'files' ? [dir, stats] : part === 'uploads' ? ['sha', 60_000] : (ARGS[name] ?? []);
        await expect(parts[part]![name]!(...args), `${part}.${name}`).resolves.not.toThrow();
        reads.push(`${part}.${name}`);
      }
    }
    expect(reads.length).toBeGreaterThanOrEqual(19);
    await expect(store.renders.release('k')).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringMatching(/readonly/) });
    db.pragma('query_only = OFF');
    await store.close();
  });
});
