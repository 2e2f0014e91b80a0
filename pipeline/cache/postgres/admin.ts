/** {@link CacheAdmin} on a PostgreSQL server: the same queries as sqlite/admin.ts (the reference). */
import { hostname } from 'node:os';
import { GC_LIMITS } from '../gc/rule.ts';
import type { CacheAdmin, CacheUser, RenderRow, RunRow, StoredClip } from '../interfaces.ts';
import { ownerAlive, pidAlive } from '../owner.ts';
import { LAPSED_CLAIMS_WHERE, toWorker, WORKER_ROWS_SQL, type WorkerRow } from '../workers.ts';
import type { Sql } from './db.ts';
import { appendPredictionId, RENDER_COLUMNS } from './renders.ts';

/** `mediaFiles`: how many files this machine's media memo remembers (it stays local). */
export function createAdmin(sql: Sql, mediaFiles: () => Promise<number>, now: () => number = Date.now): CacheAdmin {
  /** Whether a live process holds the row's claim. */
  const held = (row: RenderRow) => ({ row, holderAlive: Boolean(row.owner) && ownerAlive(row.owner!, row.lease_until ?? 0, now()) });
  const renders = (where: string, values: unknown[] = []) => sql.rows<RenderRow>(`SELECT ${RENDER_COLUMNS} FROM renders ${where}`, values);
  return {
    async stats() {
      const [byStatus, [uploads], [runs], files] = await Promise.all([
        sql.rows<{ status: string; n: number; bytes: number | null; cost: number | null }>(
          'SELECT status, count(*) n, sum(clip_bytes) bytes, sum(cost_usd) cost FROM renders GROUP BY status ORDER BY status',
        ),
        sql.rows<{ n: number }>('SELECT count(*) n FROM uploads'),
        sql.rows<{ n: number; spent: number | null }>('SELECT count(*) n, sum(spent_usd) spent FROM runs'),
        mediaFiles(),
      ]);
      return {
        renders: byStatus.map((r) => ({ status: r.status, count: r.n, bytes: r.bytes, costUsd: r.cost })),
        mediaFiles: files,
        uploads: uploads.n,
        runs: runs.n,
        spentUsd: runs.spent ?? 0,
        storageBytes: 0, // the server's disk is not this machine's
      };
    },

    completeRenders: () => renders("WHERE status = 'complete'"),

    async rendersByKeyPrefix(prefix) {
      return (await renders("WHERE key LIKE $1 || '%'", [prefix])).map(held);
    },

    async attach(key, predictionId, seen) {
      // As sqlite/admin.ts: retention and output misses counted from the attach; a compare-and-set on the
      // state it was read in (a run that took the key over since keeps it).
      const at = now();
      const changed = await sql.rows(
        `UPDATE renders SET status = 'in-flight', prediction_id = $1, prediction_ids = ${appendPredictionId('$1')}, submitted_at = $2,
           error = NULL, output_misses = 0, owner = NULL, lease_until = NULL, updated_at = $2
         WHERE key = $3 AND status IN ('ambiguous', 'submitting') AND ($4::boolean IS FALSE OR (status = $5 AND owner IS NOT DISTINCT FROM $6))
         RETURNING key`,
        [predictionId, at, key, seen !== undefined, seen?.status ?? null, seen?.owner ?? null],
      );
      return changed.length === 1;
    },

    async recentRuns(limit) {
      // A run records its pid, not its host: an unfinished one is running while that pid lives here.
      return (await sql.rows<RunRow>('SELECT * FROM runs ORDER BY id DESC LIMIT $1', [limit])).map((run) => ({ run, running: run.finished_at === null && pidAlive(run.pid) }));
    },

    async workers(limit) {
      return (await sql.rows<WorkerRow>(WORKER_ROWS_SQL('$1'), [limit])).map((row) => toWorker(row, now(), !ownerAlive(row.owner, Number.POSITIVE_INFINITY, now())));
    },

    async lapsedClaims() {
      return renders(`WHERE ${LAPSED_CLAIMS_WHERE} $1 ORDER BY lease_until`, [now()]);
    },

    async openRenders() {
      return (await renders("WHERE status IN ('pending','submitting','in-flight','ambiguous') ORDER BY updated_at")).map(held);
    },

    heldRenders: (paidAttempts) => renders("WHERE status = 'failed' AND paid_attempts >= $1 ORDER BY updated_at", [paidAttempts]),

    storedClips: () =>
      sql.rows<StoredClip>(
        `SELECT r.key, r.episode_id AS "episodeId", r.scene_id AS "sceneId", r.clip_path AS "clipPath", r.clip_bytes AS "clipBytes",
                greatest(coalesce(r.completed_at, r.updated_at), coalesce(u.last_run, 0)) AS "lastUsedAt"
         FROM renders r
         LEFT JOIN (SELECT s.key, max(coalesce(x.finished_at, x.started_at)) AS last_run
                    FROM run_scenes s JOIN runs x ON x.id = s.run_id GROUP BY s.key) u ON u.key = r.key
         WHERE r.status = 'complete'
         ORDER BY r.episode_id, r.scene_id`,
      ),

    async activeUsers() {
      const at = now();
      const [runRows, owners] = await Promise.all([
        sql.rows<{ id: number; pid: number }>('SELECT id, pid FROM runs WHERE finished_at IS NULL AND started_at > $1 ORDER BY id', [at - GC_LIMITS.liveRunMaxMs]),
        sql.rows<{ owner: string; lease_until: number }>('SELECT DISTINCT owner, lease_until FROM renders WHERE owner IS NOT NULL'),
      ]);
      const runs: CacheUser[] = runRows.filter((r) => pidAlive(r.pid)).map((r) => ({ kind: 'run', id: r.id, pid: r.pid }));
      const remote: CacheUser[] = owners
        .filter((r) => r.owner.split(':')[0] !== hostname() && ownerAlive(r.owner, r.lease_until, at))
        .map((r) => ({ kind: 'remote', host: r.owner.split(':')[0], pid: r.owner.split(':')[1] }));
      return [...runs, ...remote];
    },

    async renderKeys() {
      return new Set((await sql.rows<{ key: string }>('SELECT key FROM renders')).map((r) => r.key));
    },

    async awaitedPredictions() {
      const rows = await sql.rows<{ id: string }>("SELECT prediction_id AS id FROM renders WHERE prediction_id IS NOT NULL AND status IN ('in-flight','submitting')");
      return new Set(rows.map((r) => r.id));
    },

    async dropRender(key) {
      await sql.rows("DELETE FROM renders WHERE key = $1 AND status = 'complete'", [key]);
    },
  };
}
