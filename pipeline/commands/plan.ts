import path from 'node:path';
import { createCacheLookup } from '../cache/lookup.ts';
import { plan as buildPlan } from '../plan.ts';
import { prepare } from '../prepare.ts';
import { createRemoteFetcher } from '../media/remote.ts';
import { planToJson } from '../report/plan-json.ts';
import { planToText } from '../report/plan-text.ts';
import { cacheDirOf, ffmpegOf, openCacheForReading, outDirOf, outputResolver, parseBudget, providerInfo, providerOf, type CommandContext } from './context.ts';

export interface PlanOptions {
  provider?: string;
  budget?: string;
  cacheDir?: string;
  out?: string;
  json?: boolean;
  explain?: boolean;
  allowOutside?: boolean;
}

/** `duologue plan`: what a render would do and cost. Spends nothing, submits nothing. */
export async function planCommand(files: string[], options: PlanOptions, ctx: CommandContext): Promise<number> {
  const providerId = providerOf(ctx, options.provider);
  const budgetUsd = parseBudget(options.budget);
  const provider = providerInfo(providerId);
  const cacheDir = cacheDirOf(ctx, options.cacheDir);
  const db = openCacheForReading(ctx, cacheDir);
  try {
    const prepared = await prepare(files, {
      db,
      ffmpeg: ffmpegOf(ctx),
      prices: provider.prices,
      signal: ctx.signal,
      fetchRemote: createRemoteFetcher(path.join(cacheDir, 'remote')),
      outputs: { outDir: outDirOf(ctx, options.out), cacheDir, allowOutside: options.allowOutside },
    });
    const result = buildPlan({ ...prepared, provider, budgetUsd, lookup: createCacheLookup(db, { clipsDir: path.join(cacheDir, 'clips') }) });
    const outputOf = outputResolver(ctx, options.out);
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify(planToJson(result, prepared.warnings, outputOf, { explain: options.explain, cwd: ctx.cwd }), null, 2)}\n`);
    } else {
      ctx.stdout.write(planToText(result, prepared.warnings, outputOf, { explain: options.explain, cwd: ctx.cwd }));
    }
    return 0;
  } finally {
    db.close();
  }
}
