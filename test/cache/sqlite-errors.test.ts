/**
 * SQLite's own failures leave the store as its E_CACHE error (what the run
 * stops cleanly on), with SQLite's words kept; nothing half-written stays.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../pipeline/errors.ts';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';
import { storeOn } from '../../pipeline/cache/sqlite/store.ts';
import { INPUTS } from './contract.ts';

/** A store whose disk is full: SQLite may not grow its file by a page. */
function fullDisk() {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-full-'));
  const db = openDb(dir);
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  return { dir, store: storeOn(db, { dir, owner: 'host:1:1:x' }) };
}

const claim = (key: string) => ({ key, inputs: { ...INPUTS, prompt: 'x'.repeat(20_000) }, episodeId: 'e', sceneId: 's', estimateUsd: 0.15 });

describe('sqlite store failures', () => {
  it('a write that cannot be made is the store’s E_CACHE error, saying where and that the disk is full', async () => {
    const { dir, store } = fullDisk();
    const error = await store.renders.claim(claim('k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({
      code: 'E_CACHE',
      detail: 'database or disk is full',
      message: `the cache database in ${dir} could not be written: database or disk is full (the disk is full: free space or move --cache-dir)`,
    });
    expect((error as StoreError).cause).toMatchObject({ name: 'SqliteError', code: 'SQLITE_FULL' });
    await store.close();
  });

  it('inside a transaction too: it rolls back, and the connection takes the next call', async () => {
    const { store } = fullDisk();
    const run = await store.ledger.start({ provider: 'local', args: [], plannedUsd: 0 });
    const error = await store
      .transaction(async (tx) => {
        await tx.ledger.scene(run, { episodeId: 'e', sceneId: 's', key: 'k', outcome: 'in-flight', costUsd: 0.3 });
        await tx.renders.claim(claim('k'));
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_CACHE', detail: 'database or disk is full' });
    expect((await store.admin.recentRuns(1))[0].run.spent_usd).toBe(0);
    expect(await store.renders.get('k')).toBeUndefined();
    await store.close();
  });
});
