import { SubmitPacer, type Clock } from './pacer.ts';
import type { WavespeedPolicy } from './policy.ts';
import { ACCOUNT_TIERS, type TierSetting } from './tiers.ts';

/**
 * The run's limiter for an account level: a tier's own numbers, or for
 * `auto` the run's concurrency as the first guess, learned from 429s.
 */
export function createPacer(options: { tier: TierSetting; concurrency: number; policy: WavespeedPolicy; clock?: Clock }): SubmitPacer {
  const { tier, concurrency, policy } = options;
  const highest = Math.max(...Object.values(ACCOUNT_TIERS).map((t) => t.videosPerMinute));
  const known = tier === 'auto' ? undefined : ACCOUNT_TIERS[tier];
  return new SubmitPacer({
    startsPerWindow: known?.videosPerMinute ?? concurrency,
    maxInFlight: known?.concurrentTasks ?? concurrency,
    adaptive: !known,
    windowMs: policy.rateWindowMs,
    windowSlack: policy.rateWindowSlack,
    maxStartsPerWindow: highest,
    growth: policy.rateGrowth,
    clock: options.clock,
  });
}

/** `--concurrency` when not given: the tier's cap on tasks processing at once (else the default). */
export function defaultConcurrency(tier: TierSetting, fallback: number): number {
  return tier === 'auto' ? fallback : ACCOUNT_TIERS[tier].concurrentTasks;
}
