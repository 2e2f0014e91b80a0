import { DB_FILE } from '../cache/db.ts';
import { ownerAlive } from '../cache/owner.ts';
import type { RenderRow } from '../cache/renders.ts';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { openDb } from '../cache/db.ts';
import { table, usd } from '../report/table.ts';
import { MAX_PAID_ATTEMPTS } from '../schedule/job.ts';
import { cacheDirOf, type CommandContext } from './context.ts';

interface RunRow {
  id: number;
  started_at: number;
  finished_at: number | null;
  pid: number;
  provider: string;
  budget_usd: number | null;
  planned_usd: number;
  spent_usd: number;
  result: string | null;
  note: string | null;
}

/** `duologue status`: recent runs with their spend, and renders in flight or needing attention. */
export async function statusCommand(options: { cacheDir?: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const dir = cacheDirOf(ctx, options.cacheDir);
  if (!existsSync(path.join(dir, DB_FILE))) {
    ctx.stdout.write(options.json ? `${JSON.stringify({ runs: [], in_flight: [], attention: [], held: [] })}\n` : `no cache at ${dir} yet: nothing has been rendered\n`);
    return 0;
  }
  const db = openDb(dir);
  try {
    const runs = db.prepare<[], RunRow>('SELECT * FROM runs ORDER BY id DESC LIMIT 10').all();
    const open = db.prepare<[], RenderRow>("SELECT * FROM renders WHERE status IN ('pending','submitting','in-flight','ambiguous') ORDER BY updated_at").all();
    const held = db
      .prepare<[number], RenderRow>("SELECT * FROM renders WHERE status = 'failed' AND paid_attempts >= ? ORDER BY updated_at")
      .all(MAX_PAID_ATTEMPTS);
    const now = Date.now();
    // A dead run's "submitting" row will not be resumed: it needs a person, so it is listed there only.
    const attention = open.filter((r) => r.status === 'ambiguous' || (r.status === 'submitting' && !(r.owner && ownerAlive(r.owner, r.lease_until ?? 0, now))));
    const inFlight = open.filter((r) => !attention.includes(r));
    const state = (r: RenderRow) => (r.owner && ownerAlive(r.owner, r.lease_until ?? 0, now) ? `worked on by ${r.owner}` : 'waiting for the next run to resume it');
    if (options.json) {
      ctx.stdout.write(
        `${JSON.stringify({
          runs: runs.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at ? new Date(r.finished_at).toISOString() : null })),
          in_flight: inFlight.map((r) => ({ key: r.key, episode: r.episode_id, scene: r.scene_id, status: r.status, prediction_id: r.prediction_id, state: state(r) })),
          attention: attention.map((r) => ({ key: r.key, episode: r.episode_id, scene: r.scene_id, status: r.status, error: r.error })),
          held: held.map((r) => ({ key: r.key, episode: r.episode_id, scene: r.scene_id, paid_attempts: r.paid_attempts, error: r.error })),
        })}\n`,
      );
      return 0;
    }
    const lines: string[] = ['recent runs:'];
    const rows = [['run', 'started', 'provider', 'result', 'planned', 'spent', 'budget']];
    for (const r of runs) {
      const result = r.result ?? (ownerAlive(`${hostname()}:${r.pid}:x`, Number.MAX_SAFE_INTEGER, now) ? 'running' : 'died');
      rows.push([`#${r.id}`, new Date(r.started_at).toISOString().replace('T', ' ').slice(0, 19), r.provider, result, usd(r.planned_usd), usd(r.spent_usd), r.budget_usd === null ? '-' : usd(r.budget_usd)]);
    }
    lines.push(...(runs.length ? table(rows, ['l', 'l', 'l', 'l', 'r', 'r', 'r']).map((l) => `  ${l}`) : ['  none']));
    for (const r of runs) if (r.note) lines.push(`  #${r.id}: ${r.note}`);
    lines.push('', `in flight: ${inFlight.length}`);
    for (const r of inFlight) lines.push(`  ${r.episode_id}/${r.scene_id}  ${r.status}${r.prediction_id ? ` (prediction ${r.prediction_id})` : ''} — ${state(r)}`);
    if (attention.length > 0) {
      lines.push(
        '',
        `needs attention: ${attention.length} (a submit may have been billed without an answer). Check the provider's dashboard for a task with this seed: ` +
          'if there is one, `duologue cache attach KEY PREDICTION_ID`; if not, `render --retry-ambiguous`',
      );
      for (const r of attention) lines.push(`  ${r.episode_id}/${r.scene_id}  key ${r.key.slice(0, 12)}  seed ${r.seed}: ${r.error ?? 'interrupted mid-submit'}`);
    }
    if (held.length > 0) {
      lines.push('', `held: ${held.length} (paid ${MAX_PAID_ATTEMPTS} times without a usable clip; not paid again until \`render --retry-held\`)`);
      for (const r of held) lines.push(`  ${r.episode_id}/${r.scene_id}  key ${r.key.slice(0, 12)}  paid ${r.paid_attempts}×: ${r.error ?? 'unknown'}`);
    }
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    db.close();
  }
}
