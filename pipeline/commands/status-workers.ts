import type { RenderRow } from '../cache/interfaces.ts';
import type { Worker } from '../cache/workers.ts';
import { table } from '../report/table.ts';

/** How many workers of recent runs `duologue status` lists (a named run has one per machine that joined it). */
export const STATUS_WORKERS = 20;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `duologue status --json`'s `workers` and `lapsed_claims`. */
export function workersJson(workers: readonly Worker[], lapsed: readonly RenderRow[]) {
  return {
    workers: workers.map((w) => ({
      run: w.runId,
      run_name: w.runName,
      owner: w.owner,
      host: w.host,
      pid: w.pid,
      last_heartbeat: iso(w.lastHeartbeat),
      scenes_done: w.scenesDone,
      claimed: w.claimed,
      in_flight: w.inFlight,
      state: w.state,
    })),
    lapsed_claims: lapsed.map((r) => ({
      key: r.key,
      episode: r.episode_id,
      scene: r.scene_id,
      status: r.status,
      prediction_id: r.prediction_id,
      owner: r.owner,
      lease_until: iso(r.lease_until),
      // The lease's end is when its worker's claim lapsed.
      lapsed_since: iso(r.lease_until),
    })),
  };
}

/**
 * The text sections: each worker of recent runs, and the claims whose worker
 * stopped beating (paused, partitioned or killed), which the next claim takes
 * over, resuming a submitted prediction rather than paying again.
 */
export function workersText(workers: readonly Worker[], lapsed: readonly RenderRow[], now: number): string[] {
  const lines = ['', `workers: ${workers.length}`];
  const rows = [['run', 'host', 'pid', 'last heartbeat', 'done', 'claimed', 'in flight', 'state']];
  for (const w of workers) {
    const run = w.runName === null ? `#${w.runId}` : `#${w.runId} ${w.runName}`;
    rows.push([run, w.host, String(w.pid), ago(w.lastHeartbeat, now), String(w.scenesDone), String(w.claimed), String(w.inFlight), w.state]);
  }
  if (workers.length > 0) lines.push(...table(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l']).map((l) => `  ${l}`));
  if (lapsed.length > 0) {
    lines.push('', `lapsed claims: ${lapsed.length} (their worker stopped renewing them; the next run takes them over and resumes any submitted prediction)`);
    for (const r of lapsed) {
      const what = `${r.status}${r.prediction_id ? ` (prediction ${r.prediction_id})` : ''}`;
      lines.push(`  ${r.episode_id}/${r.scene_id}  key ${r.key.slice(0, 12)}  ${what} — held by ${r.owner}, lapsed ${ago(r.lease_until, now)}`);
    }
  }
  return lines;
}

function ago(at: number | null, now: number): string {
  return at === null ? '-' : `${Math.max(0, Math.round((now - at) / 1000))} s ago`;
}
