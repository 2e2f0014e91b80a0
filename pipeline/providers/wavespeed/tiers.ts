/**
 * WaveSpeed account levels, as data. When the provider's page changes, edit
 * this table (and its `readAt`); nothing else hard-codes a tier's numbers.
 *
 * Source: https://wavespeed.ai/docs "Account Levels & Rate Limits": starts
 * past the per-minute cap are refused with 429; tasks past the concurrent cap
 * wait in the provider's queue.
 */
export type TierName = 'bronze' | 'silver' | 'gold' | 'ultra';

export interface AccountTier {
  name: TierName;
  /** Videos that may be started per minute (more get 429). */
  videosPerMinute: number;
  /** Tasks processing at once (more wait in the provider's queue). */
  concurrentTasks: number;
  /** How an account reaches it. */
  reachedBy: string;
}

export const TIERS_READ_AT = '2026-11-26';

export const ACCOUNT_TIERS: Readonly<Record<TierName, AccountTier>> = {
  bronze: { name: 'bronze', videosPerMinute: 2, concurrentTasks: 2, reachedBy: 'default' },
  silver: { name: 'silver', videosPerMinute: 500, concurrentTasks: 300, reachedBy: '$100 topped up' },
  gold: { name: 'gold', videosPerMinute: 3_000, concurrentTasks: 3_000, reachedBy: '$1,000 topped up' },
  ultra: { name: 'ultra', videosPerMinute: 5_000, concurrentTasks: 10_000, reachedBy: '$10,000 topped up' },
};

/** `auto`: no tier given; the pace is learned from 429s. */
export type TierSetting = TierName | 'auto';

export const TIER_SETTINGS: readonly TierSetting[] = ['auto', 'bronze', 'silver', 'gold', 'ultra'];

export function isTierSetting(value: string): value is TierSetting {
  return (TIER_SETTINGS as readonly string[]).includes(value);
}
