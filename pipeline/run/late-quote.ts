/**
 * The live price check for a resolution whose every scene waited for its
 * lines' speech (preflight had no audio to ask a quote on): asked on the
 * first such scene released, before its video is submitted. A price that
 * differs from the table is not paid mid-run (the run's holds were made at
 * the table's): that resolution's scenes are held back, and the next run,
 * whose lines are voiced by then, asks the quote before any spend.
 */
import { roundUsd } from '../cost/estimate.ts';
import type { PlannedScene } from '../plan/index.ts';
import type { Provider } from '../providers/types.ts';

/** Resolves to why `scene` must not be submitted at this run's prices (undefined: it may). */
export type PriceCheck = (scene: PlannedScene) => Promise<string | undefined>;

export function latePriceCheck(provider: Provider, unquoted: readonly string[], options: { signal?: AbortSignal; warn: (message: string) => void }): PriceCheck | undefined {
  const account = provider.account;
  if (!account || unquoted.length === 0) return undefined;
  const verdicts = new Map<string, Promise<string | undefined>>();
  const waiting = new Set(unquoted);
  return (scene) => {
    if (!waiting.has(scene.resolution) || scene.action !== 'render' || scene.estimateUsd <= 0) return Promise.resolve(undefined);
    let verdict = verdicts.get(scene.resolution);
    if (!verdict) {
      verdict = (async () => {
        const quotedUsd = roundUsd(await account.quote(scene, { signal: options.signal }));
        if (quotedUsd === scene.estimateUsd) return undefined;
        const why = `WaveSpeed quotes $${quotedUsd.toFixed(4)}, the table says $${scene.estimateUsd.toFixed(4)} (${scene.episodeId}/${scene.sceneId}, ${scene.resolution})`;
        options.warn(`${why}: no ${scene.resolution} scene is submitted this run; run again to be asked before any spend (its lines are voiced now)`);
        return `live price differs: ${why}`;
      })().catch((error: unknown) => `no live price quote: ${(error as Error).message}`);
      verdicts.set(scene.resolution, verdict);
    }
    return verdict;
  };
}
