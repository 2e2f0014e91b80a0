/**
 * The workers of recent runs as `duologue status` shows them: who (host,
 * pid), their last heartbeat, how many scenes they have done, and whether
 * they are live (heartbeat within the lease) or lapsed (a worker paused,
 * partitioned or killed: its claims may be taken over). Pure: the backends
 * read the rows, this decides what they mean against the store's clock.
 */

/** A worker's row as the backends read it for `workers()`: an unnamed run's own, or one worker of a named run. */
export interface WorkerRow {
  run_id: number;
  /** The named run's name (`--run`); null for a process's own run. */
  run_name: string | null;
  /** `host:pid:start:nonce` */
  owner: string;
  pid: number;
  started_at: number;
  finished_at: number | null;
  heartbeat_at: number | null;
  lease_ms: number | null;
  /** Scenes the worker rendered or found cached. */
  scenes_done: number;
  /** Open renders whose claim it holds (pending, submitting, in flight, ambiguous), and of those the ones submitted. */
  claimed: number;
  in_flight: number;
}

/** `finished`: the worker ended (its run's result is on the run's row); `live`/`lapsed` only for unfinished ones. */
export type WorkerState = 'live' | 'lapsed' | 'finished';

export interface Worker {
  runId: number;
  runName: string | null;
  /** `host:pid:start:nonce`, as its claims name it (lapsed claims are matched to it by this). */
  owner: string;
  host: string;
  pid: number;
  /** Epoch ms; null when the run never beat (none recorded). */
  lastHeartbeat: number | null;
  scenesDone: number;
  claimed: number;
  inFlight: number;
  state: WorkerState;
}

/**
 * A worker; an unfinished one is live while its last heartbeat is
 * within its lease. `gone`: the OS says its process no longer runs (on this
 * host): lapsed at once, as its claims are free at once (see owner.ts).
 */
export function toWorker(row: WorkerRow, now: number, gone = false): Worker {
  const host = row.owner.split(':')[0];
  const beat = row.heartbeat_at ?? row.started_at;
  const state: WorkerState = row.finished_at !== null ? 'finished' : !gone && beat + (row.lease_ms ?? 0) >= now ? 'live' : 'lapsed';
  return {
    runId: row.run_id,
    runName: row.run_name,
    owner: row.owner,
    host,
    pid: row.pid,
    lastHeartbeat: row.heartbeat_at,
    scenesDone: row.scenes_done,
    claimed: row.claimed,
    inFlight: row.in_flight,
    state,
  };
}

/**
 * The SQL both backends share (standard SQL; `?`/`$1` is the limit): the last
 * workers, newest run first. An unnamed run is its own worker (its row names
 * who ran it); a named run's workers each have a `run_workers` row, and their
 * done scenes are the ones each wrote (`run_scenes.owner`).
 */
export const WORKER_ROWS_SQL = (limit: string) =>
  `SELECT w.run_id, w.run_name, w.owner, w.pid, w.started_at, w.finished_at, w.heartbeat_at, w.lease_ms,
     (SELECT count(*) FROM run_scenes s WHERE s.run_id = w.run_id AND (w.seq = 0 OR s.owner = w.owner) AND s.outcome IN ('rendered', 'cached')) AS scenes_done,
     (SELECT count(*) FROM renders x WHERE x.owner = w.owner AND x.status IN ('pending', 'submitting', 'in-flight', 'ambiguous')) AS claimed,
     (SELECT count(*) FROM renders x WHERE x.owner = w.owner AND x.status IN ('submitting', 'in-flight')) AS in_flight
   FROM (
     SELECT r.id AS run_id, r.name AS run_name, r.owner, r.pid, r.started_at, r.finished_at, r.heartbeat_at, r.lease_ms, 0 AS seq FROM runs r WHERE r.owner IS NOT NULL
     UNION ALL
     SELECT v.run_id, r.name, v.owner, v.pid, v.started_at, v.finished_at, v.heartbeat_at, v.lease_ms, v.id FROM run_workers v JOIN runs r ON r.id = v.run_id
   ) w ORDER BY w.run_id DESC, w.seq DESC LIMIT ${limit}`;

/** Claims whose lease has lapsed: open renders still naming an owner whose heartbeat stopped renewing them. */
export const LAPSED_CLAIMS_WHERE = "owner IS NOT NULL AND status <> 'complete' AND lease_until < ";
