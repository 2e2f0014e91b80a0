/** {@link CacheAdmin}: what `status` and `cache stats|verify|attach|gc` ask of the SQLite cache. */
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { GC_LIMITS } from '../gc/rule.ts';
import type { CacheAdmin, CacheStats, CacheUser, RenderRow, RunRow, StoredClip } from '../interfaces.ts';
import { ownerAlive, pidAlive } from '../owner.ts';
import { LAPSED_CLAIMS_WHERE, toWorker, WORKER_ROWS_SQL, type WorkerRow } from '../workers.ts';
import { DB_FILE, statementCache, type Db } from './db.ts';
import type { Sync } from './guard.ts';

export function createAdmin(db: Db, dir: string, now: () => number = Date.now): Sync<CacheAdmin> {
  const sql = statementCache(db);
  /** Whether a live process holds the row's claim. */
  const held = (row: RenderRow) => ({ row, holderAlive: Boolean(row.owner) && ownerAlive(row.owner!, row.lease_until ?? 0, now()) });
  return {
    stats(): CacheStats {
      const byStatus = sql('SELECT status, count(*) n, sum(clip_bytes) bytes, sum(cost_usd) cost FROM renders GROUP BY status ORDER BY status').all() as {
        status: string;
        n: number;
        bytes: number | null;
        cost: number | null;
      }[];
      const count = (table: string) => (sql(`SELECT count(*) n FROM ${table}`).get() as { n: number }).n;
      const runs = sql('SELECT count(*) n, sum(spent_usd) spent FROM runs').get() as { n: number; spent: number | null };
      // The database with its write-ahead log and shared-memory index.
      const storageBytes = dir === ':memory:' ? 0 : ['', '-wal', '-shm'].reduce((sum, s) => sum + (existsSync(path.join(dir, DB_FILE + s)) ? statSync(path.join(dir, DB_FILE + s)).size : 0), 0);
      return {
        renders: byStatus.map((r) => ({ status: r.status, count: r.n, bytes: r.bytes, costUsd: r.cost })),
        mediaFiles: count('file_memo'),
        uploads: count('uploads'),
        runs: runs.n,
        spentUsd: runs.spent ?? 0,
        storageBytes,
      };
    },

    completeRenders() {
      return sql("SELECT * FROM renders WHERE status = 'complete'").all() as RenderRow[];
    },

    rendersByKeyPrefix(prefix) {
      return (sql("SELECT * FROM renders WHERE key LIKE ? || '%'").all(prefix) as RenderRow[]).map(held);
    },

    attach(key, predictionId, seen) {
      // submitted_at is now: the provider's retention is counted from the attach, not from an old submit;
      // output misses from the attach too (they are counted per prediction).
      // A compare-and-set: a run that took the key over since it was read (found the task, submitted again, completed) keeps it.
      const r = sql(
        `UPDATE renders SET status = 'in-flight', prediction_id = ?, prediction_ids = json_insert(coalesce(prediction_ids, '[]'), '$[#]', ?), submitted_at = ?,
           error = NULL, output_misses = 0, owner = NULL, lease_until = NULL, updated_at = ?
         WHERE key = ? AND status IN ('ambiguous', 'submitting') AND (? = 0 OR (status = ? AND owner IS ?))`,
      ).run(predictionId, predictionId, now(), now(), key, seen ? 1 : 0, seen?.status ?? null, seen?.owner ?? null);
      return r.changes === 1;
    },

    recentRuns(limit) {
      // A run records its pid, not its host: an unfinished one is running while that pid lives here.
      return (sql('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit) as RunRow[]).map((run) => ({ run, running: run.finished_at === null && pidAlive(run.pid) }));
    },

    workers(limit) {
      return (sql(WORKER_ROWS_SQL('?')).all(limit) as WorkerRow[]).map((row) => toWorker(row, now(), !ownerAlive(row.owner, Number.POSITIVE_INFINITY, now())));
    },

    lapsedClaims() {
      return sql(`SELECT * FROM renders WHERE ${LAPSED_CLAIMS_WHERE} ? ORDER BY lease_until`).all(now()) as RenderRow[];
    },

    openRenders() {
      return (sql("SELECT * FROM renders WHERE status IN ('pending','submitting','in-flight','ambiguous') ORDER BY updated_at").all() as RenderRow[]).map(held);
    },

    heldRenders(paidAttempts) {
      return sql("SELECT * FROM renders WHERE status = 'failed' AND paid_attempts >= ? ORDER BY updated_at").all(paidAttempts) as RenderRow[];
    },

    storedClips() {
      return sql(
        `SELECT r.key, r.episode_id AS episodeId, r.scene_id AS sceneId, r.clip_path AS clipPath, r.clip_bytes AS clipBytes,
                max(coalesce(r.completed_at, r.updated_at), coalesce(u.last_run, 0)) AS lastUsedAt
         FROM renders r
         LEFT JOIN (SELECT s.key, max(coalesce(x.finished_at, x.started_at)) AS last_run
                    FROM run_scenes s JOIN runs x ON x.id = s.run_id GROUP BY s.key) u ON u.key = r.key
         WHERE r.status = 'complete'
         ORDER BY r.episode_id, r.scene_id`,
      ).all() as StoredClip[];
    },

    activeUsers() {
      const at = now();
      const runs: CacheUser[] = (sql('SELECT id, pid FROM runs WHERE finished_at IS NULL AND started_at > ? ORDER BY id').all(at - GC_LIMITS.liveRunMaxMs) as { id: number; pid: number }[])
        .filter((r) => pidAlive(r.pid))
        .map((r) => ({ kind: 'run', id: r.id, pid: r.pid }));
      const remote: CacheUser[] = (sql('SELECT DISTINCT owner, lease_until FROM renders WHERE owner IS NOT NULL').all() as { owner: string; lease_until: number }[])
        .filter((r) => r.owner.split(':')[0] !== hostname() && ownerAlive(r.owner, r.lease_until, at))
        .map((r) => ({ kind: 'remote', host: r.owner.split(':')[0], pid: r.owner.split(':')[1] }));
      return [...runs, ...remote];
    },

    renderKeys() {
      return new Set((sql('SELECT key FROM renders').all() as { key: string }[]).map((r) => r.key));
    },

    awaitedPredictions() {
      const rows = sql("SELECT prediction_id AS id FROM renders WHERE prediction_id IS NOT NULL AND status IN ('in-flight','submitting')").all() as { id: string }[];
      return new Set(rows.map((r) => r.id));
    },

    dropRender(key) {
      sql("DELETE FROM renders WHERE key = ? AND status = 'complete'").run(key);
    },
  };
}
