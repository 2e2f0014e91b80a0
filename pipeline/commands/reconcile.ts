import { openStore, storeExists } from '../cache/store.ts';
import { reconcile } from '../report/reconcile.ts';
import { DuologueError } from '../errors.ts';
import { openAccount } from '../providers/wavespeed/account.ts';
import { table, usd } from '../report/table.ts';
import { cacheDirOf, type CommandContext, sharedOf, type SharedFlags } from './context.ts';

/** Billing records may be written a little before a submit's answer or after a run ends (clocks, queues). */
const WINDOW_SLACK_MS = 10 * 60_000;

/**
 * `duologue status --reconcile [RUN]`: what a run recorded per prediction
 * against WaveSpeed's billing records. Exit 0 when they agree, 1 when any
 * line differs (each is listed).
 */
export async function reconcileCommand(runArg: string | undefined, options: { cacheDir?: string; json?: boolean } & SharedFlags, ctx: CommandContext): Promise<number> {
  const apiKey = ctx.env.WAVESPEED_API_KEY?.trim();
  if (!apiKey) throw new DuologueError('E_USAGE', 'status --reconcile reads WaveSpeed\'s billing records: it needs WAVESPEED_API_KEY');
  const runId = runArg === undefined ? undefined : Number(runArg.replace(/^#/, ''));
  if (runId !== undefined && (!Number.isInteger(runId) || runId < 1)) throw new DuologueError('E_USAGE', `Expected a run number (as \`duologue status\` lists them), got \`${runArg}\``);
  const dir = cacheDirOf(ctx, options.cacheDir);
  const { storeUrl } = sharedOf(ctx, options);
  if (storeUrl === undefined && !(await storeExists(dir))) throw new DuologueError('E_USAGE', `no cache at ${dir}: nothing to reconcile`);
  const store = await openStore({ dir, url: storeUrl });
  const { account, close } = openAccount({ apiKey, baseUrl: ctx.env.WAVESPEED_BASE_URL || undefined });
  try {
    const ledger = store.ledger;
    const run = await ledger.run(runId, 'wavespeed');
    if (!run) throw new DuologueError('E_USAGE', runId === undefined ? 'no WaveSpeed run in this cache yet' : `no run #${runId} in this cache`);
    if (run.provider !== 'wavespeed') throw new DuologueError('E_USAGE', `run #${run.id} used the ${run.provider} provider: nothing was billed`);
    const recorded = await ledger.charges(run);
    const from = run.startedAt - WINDOW_SLACK_MS;
    const end = (run.finishedAt ?? Date.now()) + WINDOW_SLACK_MS;
    // A charge may land after the run ended: read up to now, but look for unknown ones only inside the run's window.
    const billed = await account.billings({ from, to: Math.max(end, Date.now()) }, { signal: ctx.signal });
    // The pure rule asks about billed ids one by one: the ledger is asked first, about each once.
    const known = new Set<string>();
    for (const id of new Set(billed.map((b) => b.predictionId))) if (await ledger.knowsPrediction(id)) known.add(id);
    const result = reconcile(recorded, billed, (b) => b.createdAt >= from && b.createdAt <= end, (id) => known.has(id));
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify({ run: run.id, recorded_usd: result.recordedUsd, billed_usd: result.billedUsd, differences: result.differences, lines: result.lines })}\n`);
    } else {
      const rows = [['scene', 'prediction', 'recorded', 'billed', '']];
      for (const l of result.lines) rows.push([l.scene ?? '-', l.predictionId ?? '-', usd(l.recordedUsd), usd(l.billedUsd), l.problem ? `DIFFERS: ${l.problem}` : 'ok']);
      const lines = [`run #${run.id}: ${result.lines.length} prediction${result.lines.length === 1 ? '' : 's'} — recorded ${usd(result.recordedUsd)}, WaveSpeed billed ${usd(result.billedUsd)}`];
      if (result.lines.length > 0) lines.push(...table(rows, ['l', 'l', 'r', 'r', 'l']).map((l) => `  ${l}`));
      lines.push(result.differences === 0 ? 'the ledger equals the invoice' : `${result.differences} difference${result.differences === 1 ? '' : 's'}`);
      ctx.stdout.write(`${lines.join('\n')}\n`);
    }
    return result.differences === 0 ? 0 : 1;
  } finally {
    await close();
    await store.close();
  }
}
