/**
 * "Nothing is sent to the paid API before the state allowing it is on disk."
 * The group commit settles a unit once its COMMIT returns; how durable that
 * COMMIT is comes from the connection's `synchronous` setting.
 *
 * KNOWN GAP (it.fails below, left to the store's owner: it trades speed for
 * durability): the cache opens with `synchronous = NORMAL` in WAL mode. A
 * COMMIT then reaches the OS, not the disk: it survives a kill -9 (the crash
 * tests), but an OS crash or power loss after the request went out can lose
 * the "submitting" row (and a new prediction's id), and the next run pays
 * for the key again. `FULL` fsyncs the WAL at every COMMIT; measured on the
 * project machine, 0.35 ms a commit against 0.02 ms (300 commits of one row),
 * a cost the group commit now shares between every unit of a turn.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';

describe('cache durability', () => {
  it.fails('a COMMIT that lets a paid request go out is fsynced (synchronous FULL or EXTRA), not only handed to the OS', () => {
    const db = openDb(mkdtempSync(path.join(tmpdir(), 'dl-durable-')));
    try {
      // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
      expect(db.pragma('synchronous', { simple: true })).toBeGreaterThanOrEqual(2);
    } finally {
      db.close();
    }
  });
});
