/**
 * The workers of recent runs as `duologue status` shows them: who (host,
 * pid), their last heartbeat, how many scenes they have done, and whether
 * they are live (heartbeat within the lease) or lapsed (a worker paused,
 * partitioned or killed: its claims may be taken over). Pure: the backends
 * read the rows, this decides what they mean against the store's clock.
 */

/** A run's row as the backends read it for `workers()`. */
export interface WorkerRow {
  run_id: number;
  /** `host:pid:start:nonce` */
  owner: string;
  pid: number;
  started_at: number;
  finished_at: number | null;
  heartbeat_at: number | null;
  lease_ms: number | null;
  /** Scenes the run rendered or found cached. */
  scenes_done: number;
}

/** `finished`: the run ended (its result is on the run's row); `live`/`lapsed` only for unfinished runs. */
export type WorkerState = 'live' | 'lapsed' | 'finished';

export interface Worker {
  runId: number;
  host: string;
  pid: number;
  /** Epoch ms; null when the run never beat (none recorded). */
  lastHeartbeat: number | null;
  scenesDone: number;
  state: WorkerState;
}

/**
 * A run's worker; an unfinished one is live while its last heartbeat is
 * within its lease. `gone`: the OS says its process no longer runs (on this
 * host): lapsed at once, as its claims are free at once (see owner.ts).
 */
export function toWorker(row: WorkerRow, now: number, gone = false): Worker {
  const host = row.owner.split(':')[0];
  const beat = row.heartbeat_at ?? row.started_at;
  const state: WorkerState = row.finished_at !== null ? 'finished' : !gone && beat + (row.lease_ms ?? 0) >= now ? 'live' : 'lapsed';
  return { runId: row.run_id, host, pid: row.pid, lastHeartbeat: row.heartbeat_at, scenesDone: row.scenes_done, state };
}

/** The SQL both backends share (standard SQL; `?`/`$1` is the limit): the last runs that recorded who ran them. */
export const WORKER_ROWS_SQL = (limit: string) =>
  `SELECT r.id AS run_id, r.owner, r.pid, r.started_at, r.finished_at, r.heartbeat_at, r.lease_ms,
     (SELECT count(*) FROM run_scenes s WHERE s.run_id = r.id AND s.outcome IN ('rendered', 'cached')) AS scenes_done
   FROM runs r WHERE r.owner IS NOT NULL ORDER BY r.id DESC LIMIT ${limit}`;

/** Claims whose lease has lapsed: open renders still naming an owner whose heartbeat stopped renewing them. */
export const LAPSED_CLAIMS_WHERE = "owner IS NOT NULL AND status <> 'complete' AND lease_until < ";
