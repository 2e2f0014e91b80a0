/**
 * Hostile checks of the SQLite store's group commit, through the store (not
 * the GroupCommit class alone): a real full disk in the middle of a group,
 * close() with work queued or running, and a library user's fake timers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';
import { openSqliteStore, storeOn } from '../../pipeline/cache/sqlite/store.ts';
import { INPUTS } from './contract.ts';

const claim = (key: string, prompt = 'p') => ({ key, inputs: { ...INPUTS, prompt }, episodeId: 'e', sceneId: key, estimateUsd: 0.15 });
const dir = () => mkdtempSync(path.join(tmpdir(), 'dl-gc-attack-'));

/** The renders as another process sees them. */
function rows(cacheDir: string): Record<string, { status: string; prediction_id: string | null }> {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    const all = db.prepare('SELECT key, status, prediction_id FROM renders').all() as { key: string; status: string; prediction_id: string | null }[];
    return Object.fromEntries(all.map((r) => [r.key, { status: r.status, prediction_id: r.prediction_id }]));
  } finally {
    db.close();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('group commit under attack', () => {
  it('a real full disk mid-group drops the whole transaction: a unit that ran before it (a new prediction id) is told E_CACHE, not left believing it is recorded; one queued after it runs in the next group', async () => {
    const cacheDir = dir();
    const db = openDb(cacheDir);
    const store = storeOn(db, { dir: cacheDir, owner: 'host:1:1:x' });
    await store.renders.claim(claim('a'));
    await store.renders.claim(claim('c'));
    await store.transaction(async (tx) => {
      await tx.renders.markSubmitting('a');
      await tx.renders.markSubmitting('c');
    });
    // The disk is full from here: SQLite may not grow the file by one page. (SQLite then rolls back
    // the whole transaction, not just the statement: checked here, as the group's undo relies on it.)
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const recorded = store.transaction((tx) => tx.renders.markInFlight('a', 'pred-a'));
    const big = store.renders.claim(claim('b', 'x'.repeat(200_000)));
    const after = store.transaction((tx) => tx.renders.markInFlight('c', 'pred-c'));
    await expect(big).rejects.toMatchObject({ code: 'E_CACHE', detail: 'database or disk is full' });
    await expect(recorded).rejects.toMatchObject({ code: 'E_CACHE', detail: 'database or disk is full' });
    await after;
    expect(rows(cacheDir)).toEqual({ a: { status: 'submitting', prediction_id: null }, c: { status: 'in-flight', prediction_id: 'pred-c' } });
    await store.close();
  });

  it('a transaction whose writes run side by side (Promise.all) on a full disk: none of them lands, not even one made after SQLite dropped the transaction', async () => {
    const cacheDir = dir();
    const db = openDb(cacheDir);
    const store = storeOn(db, { dir: cacheDir, owner: 'host:1:1:x' });
    await store.renders.claim(claim('a'));
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    // The first write fills the disk and SQLite drops the transaction; the second is called right after
    // it, in the same tick. Run then, it would be a statement of its own, committed at once ("submitting"
    // on disk for a transaction its caller is told failed).
    const both = store.transaction(async (tx) => {
      await Promise.all([tx.renders.claim(claim('b', 'x'.repeat(200_000))), tx.renders.markSubmitting('a')]);
    });
    await expect(both).rejects.toMatchObject({ code: 'E_CACHE', detail: 'database or disk is full' });
    expect(rows(cacheDir).a.status).toBe('pending');
    await store.close();
  });

  it('close() asked in the same turn as queued writes and while a transaction runs: every unit lands first, then the connection closes; a call after it is refused, not left hanging', async () => {
    const cacheDir = dir();
    const store = openSqliteStore({ dir: cacheDir, owner: 'host:1:1:x' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = store.transaction(async (tx) => {
      await tx.renders.claim(claim('t'));
      await gate; // still running when close() is asked
      await tx.renders.markSubmitting('t');
    });
    // Let the transaction's group start (it waits on the gate with the lock held).
    await new Promise((resolve) => setImmediate(resolve));
    const queued = [store.renders.claim(claim('q1')), store.renders.claim(claim('q2'))];
    const closed = store.close();
    release();
    await running;
    await Promise.all(queued);
    await closed;
    expect(rows(cacheDir)).toEqual({
      t: { status: 'submitting', prediction_id: null },
      q1: { status: 'pending', prediction_id: null },
      q2: { status: 'pending', prediction_id: null },
    });
    await expect(store.renders.claim(claim('late'))).rejects.toThrow(/not open/);
  });

  it("a library user's fake timers (installed after duologue is loaded) do not stall the store's writes", async () => {
    const cacheDir = dir();
    const store = openSqliteStore({ dir: cacheDir, owner: 'host:1:1:x' });
    vi.useFakeTimers(); // fakes setImmediate too; the group's turn was taken before
    await store.renders.claim(claim('k'));
    await store.transaction((tx) => tx.renders.markSubmitting('k'));
    expect(rows(cacheDir).k.status).toBe('submitting');
    vi.useRealTimers();
    await store.close();
  });
});
