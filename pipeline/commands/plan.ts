import path from 'node:path';
import { openClipStore } from '../cache/clips/index.ts';
import { isAbort } from '../errors.ts';
import { openAccount } from '../providers/wavespeed/account.ts';
import { planManifests } from '../run/plan-manifests.ts';
import { planToJson } from '../report/plan-json.ts';
import { planToText } from '../report/plan-text.ts';
import { cacheDirOf, ffmpegOf, openCacheForReading, outDirOf, parseBudget, providerInfo, providerOf, sharedOf, type CommandContext } from './context.ts';

export interface PlanOptions {
  provider?: string;
  budget?: string;
  cacheDir?: string;
  out?: string;
  json?: boolean;
  explain?: boolean;
  allowOutside?: boolean;
  store?: string;
  clips?: string;
}

/** `duologue plan`: what a render would do and cost. Spends nothing, submits nothing. */
export async function planCommand(files: string[], options: PlanOptions, ctx: CommandContext): Promise<number> {
  const providerId = providerOf(ctx, options.provider, { needsKey: false });
  const budgetUsd = parseBudget(options.budget);
  const provider = providerInfo(providerId);
  const cacheDir = cacheDirOf(ctx, options.cacheDir);
  const shared = sharedOf(ctx, options);
  const store = await openCacheForReading(ctx, cacheDir, shared);
  let clips;
  try {
    clips = await openClipStore({ clipsDir: path.join(cacheDir, 'clips'), url: shared.clipsUrl, env: ctx.env });
    const manifests = await planManifests(files, {
      store, cacheDir, clips, ffmpeg: ffmpegOf(ctx), provider, budgetUsd, signal: ctx.signal,
      outputs: { outDir: outDirOf(ctx, options.out), allowOutside: options.allowOutside },
    });
    const balanceUsd = providerId === 'wavespeed' ? await readBalance(ctx) : undefined;
    const result = manifests.planWith(undefined, balanceUsd);
    const { warnings, outputOf } = manifests;
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify(planToJson(result, warnings, outputOf, { explain: options.explain, cwd: ctx.cwd }), null, 2)}\n`);
    } else {
      ctx.stdout.write(planToText(result, warnings, outputOf, { explain: options.explain, cwd: ctx.cwd }));
    }
    return 0;
  } finally {
    await clips?.close();
    await store.close();
  }
}

/** With a key, the account's balance (a second cap the plan admits under); without one, or when it cannot be read, none. */
async function readBalance(ctx: CommandContext): Promise<number | undefined> {
  const apiKey = ctx.env.WAVESPEED_API_KEY?.trim();
  if (!apiKey) return undefined;
  // A plan should not wait long on the network: one retry, then it goes on without the balance.
  const { account, close } = openAccount({ apiKey, baseUrl: ctx.env.WAVESPEED_BASE_URL || undefined, policy: { maxAttempts: 2, backoffBaseMs: 500 } });
  try {
    return await account.balance({ signal: ctx.signal });
  } catch (error) {
    if (isAbort(error)) throw error;
    ctx.stderr.write(`note: the WaveSpeed balance could not be read (${(error as Error).message}); planned without it\n`);
    return undefined;
  } finally {
    await close();
  }
}
