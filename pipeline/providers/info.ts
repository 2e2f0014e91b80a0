import { estimate } from '../cost/estimate.ts';
import { CURRENT_PRICE_TABLE, LOCAL_PRICE_TABLE, type PriceTable } from '../cost/price-table.ts';
import type { ProviderInfo } from '../plan.ts';
import type { RenderTask } from './types.ts';

export type ProviderId = 'wavespeed' | 'local';

/** What planning needs to know about a provider: its id, model and prices. */
export const PROVIDERS: Record<ProviderId, ProviderInfo> = {
  wavespeed: { id: 'wavespeed', model: CURRENT_PRICE_TABLE.model, prices: CURRENT_PRICE_TABLE },
  local: { id: 'local', model: LOCAL_PRICE_TABLE.model, prices: LOCAL_PRICE_TABLE },
};

/** The plan's price for one task under a price table. */
export function estimateTask(task: RenderTask, prices: PriceTable): number {
  return estimate(task.order, task.tracks.left.durationMs, task.tracks.right.durationMs, task.resolution, prices).costUsd;
}
