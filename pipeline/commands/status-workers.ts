import type { RenderRow } from '../cache/interfaces.ts';
import type { Worker } from '../cache/workers.ts';
import { table } from '../report/table.ts';

/** How many recent runs' workers `duologue status` lists. */
export const STATUS_WORKERS = 10;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `duologue status --json`'s `workers` and `lapsed_claims`. */
export function workersJson(workers: readonly Worker[], lapsed: readonly RenderRow[]) {
  return {
    workers: workers.map((w) => ({ run: w.runId, host: w.host, pid: w.pid, last_heartbeat: iso(w.lastHeartbeat), scenes_done: w.scenesDone, state: w.state })),
    lapsed_claims: lapsed.map((r) => ({
      key: r.key,
      episode: r.episode_id,
      scene: r.scene_id,
      status: r.status,
      prediction_id: r.prediction_id,
      owner: r.owner,
      lease_until: iso(r.lease_until),
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
  const rows = [['run', 'host', 'pid', 'last heartbeat', 'done', 'state']];
  for (const w of workers) {
    const beat = w.lastHeartbeat === null ? '-' : `${Math.max(0, Math.round((now - w.lastHeartbeat) / 1000))} s ago`;
    rows.push([`#${w.runId}`, w.host, String(w.pid), beat, String(w.scenesDone), w.state]);
  }
  if (workers.length > 0) lines.push(...table(rows, ['l', 'l', 'r', 'r', 'r', 'l']).map((l) => `  ${l}`));
  if (lapsed.length > 0) {
    lines.push('', `lapsed claims: ${lapsed.length} (their worker stopped renewing them; the next run takes them over and resumes any submitted prediction)`);
    for (const r of lapsed) lines.push(`  ${r.episode_id}/${r.scene_id}  ${r.status}${r.prediction_id ? ` (prediction ${r.prediction_id})` : ''} — held by ${r.owner}`);
  }
  return lines;
}
