import type { RenderRow } from '../cache/interfaces.ts';
import { openStore, storeExists } from '../cache/store.ts';
import { table, usd } from '../report/table.ts';
import { MAX_PAID_ATTEMPTS } from '../schedule/job.ts';
import { cacheDirOf, sharedOf, type CommandContext, type SharedFlags } from './context.ts';
import { STATUS_WORKERS, workersJson, workersText } from './status-workers.ts';

/** `duologue status`: recent runs with their spend, and renders in flight or needing attention. */
export async function statusCommand(options: { cacheDir?: string; json?: boolean } & SharedFlags, ctx: CommandContext): Promise<number> {
  const dir = cacheDirOf(ctx, options.cacheDir);
  const { storeUrl } = sharedOf(ctx, options);
  if (storeUrl === undefined && !(await storeExists(dir))) {
    ctx.stdout.write(options.json ? `${JSON.stringify({ runs: [], in_flight: [], attention: [], held: [], ...workersJson([], []) })}\n` : `no cache at ${dir} yet: nothing has been rendered\n`);
    return 0;
  }
  const store = await openStore({ dir, url: storeUrl });
  try {
    const recent = await store.admin.recentRuns(10);
    const runs = recent.map((r) => r.run);
    const open = await store.admin.openRenders();
    const held = await store.admin.heldRenders(MAX_PAID_ATTEMPTS);
    const workers = await store.admin.workers(STATUS_WORKERS);
    const lapsed = await store.admin.lapsedClaims();
    // A named run's row holds the result of the worker that finished last so far: while another of its workers beats, it still runs.
    const live = (runId: number) => workers.filter((w) => w.runId === runId && w.state === 'live').length;
    // Whether a live process holds each open render's claim, as the store tells.
    const alive = new Map(open.map((o) => [o.row, o.holderAlive]));
    // A dead run's "submitting" row will not be resumed: it needs a person, so it is listed there only.
    const attention = open.map((o) => o.row).filter((r) => r.status === 'ambiguous' || (r.status === 'submitting' && !alive.get(r)));
    const inFlight = open.map((o) => o.row).filter((r) => !attention.includes(r));
    const state = (r: RenderRow) => (alive.get(r) ? `worked on by ${r.owner}` : 'waiting for the next run to resume it');
    if (options.json) {
      ctx.stdout.write(
        `${JSON.stringify({
          runs: runs.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at ? new Date(r.finished_at).toISOString() : null,
            heartbeat_at: r.heartbeat_at ? new Date(r.heartbeat_at).toISOString() : null,
            live_workers: live(r.id),
          })),
          in_flight: inFlight.map((r) => ({ key: r.key, episode: r.episode_id, scene: r.scene_id, status: r.status, prediction_id: r.prediction_id, state: state(r) })),
          attention: attention.map((r) => ({ key: r.key, episode: r.episode_id, scene: r.scene_id, status: r.status, error: r.error })),
          held: held.map((r) => ({ key: r.key, episode: r.episode_id, scene: r.scene_id, paid_attempts: r.paid_attempts, error: r.error })),
          ...workersJson(workers, lapsed),
        })}\n`,
      );
      return 0;
    }
    const lines: string[] = ['recent runs:'];
    const rows = [['run', 'started', 'provider', 'result', 'planned', 'spent', 'budget']];
    for (const { run: r, running } of recent) {
      const result = r.name && live(r.id) > 0 ? `running (${live(r.id)} live)` : (r.result ?? (running ? 'running' : 'died'));
      rows.push([r.name ? `#${r.id} ${r.name}` : `#${r.id}`, new Date(r.started_at).toISOString().replace('T', ' ').slice(0, 19), r.provider, result, usd(r.planned_usd), usd(r.spent_usd), r.budget_usd === null ? '-' : usd(r.budget_usd)]);
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
    // Heartbeats and leases are on the store's clock (a shared store's is its server's), not this machine's.
    lines.push(...workersText(workers, lapsed, store.renders.clock.now()));
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
