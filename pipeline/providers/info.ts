import { CURRENT_PRICE_TABLE, LOCAL_PRICE_TABLE } from '../cost/price-table.ts';
import type { ProviderInfo } from '../plan.ts';

export type ProviderId = 'wavespeed' | 'local';

/** What planning needs to know about a provider: its id, model and prices. */
export const PROVIDERS: Record<ProviderId, ProviderInfo> = {
  wavespeed: { id: 'wavespeed', model: CURRENT_PRICE_TABLE.model, prices: CURRENT_PRICE_TABLE },
  local: { id: 'local', model: LOCAL_PRICE_TABLE.model, prices: LOCAL_PRICE_TABLE },
};
