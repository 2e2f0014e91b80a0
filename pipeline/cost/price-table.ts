import type { Resolution } from '../types.ts';

/**
 * WaveSpeed InfiniteTalk Multi prices, as data. When the provider's page
 * changes, add a new table and point CURRENT at it; old tables stay so a run
 * report can say which prices it used.
 *
 * Source: https://wavespeed.ai/models/wavespeed-ai/infinitetalk/multi
 * (pricing section). The page has also shown a 3 s minimum at times: change
 * `minimumBilledSeconds` in a new version if it does again.
 */
export interface PriceTable {
  version: string;
  /** The day the prices were read off the provider's page (ISO date). */
  readAt: string;
  model: string;
  /** Seconds below which a clip is billed as this many seconds. */
  minimumBilledSeconds: number;
  /** USD per block of `blockSeconds` of video, per resolution. */
  blockSeconds: number;
  pricePerBlock: Record<Resolution, number>;
}

export const PRICE_TABLES: readonly PriceTable[] = [
  {
    version: 'wavespeed-infinitetalk-multi/2026-11-01',
    readAt: '2026-11-01',
    model: 'wavespeed-ai/infinitetalk/multi',
    minimumBilledSeconds: 5,
    blockSeconds: 5,
    pricePerBlock: { '480p': 0.15, '720p': 0.3 },
  },
];

export const CURRENT_PRICE_TABLE: PriceTable = PRICE_TABLES[PRICE_TABLES.length - 1];

/** The local preview renderer: same shape, always free. */
export const LOCAL_PRICE_TABLE: PriceTable = {
  version: 'local/free',
  readAt: '2026-11-01',
  model: 'duologue/local-preview',
  minimumBilledSeconds: 0,
  blockSeconds: 5,
  pricePerBlock: { '480p': 0, '720p': 0 },
};
