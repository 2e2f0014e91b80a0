import { CURRENT_PRICE_TABLE, LOCAL_PRICE_TABLE } from '../cost/price-table.ts';
import type { ProviderDescription } from './types.ts';

export type ProviderId = 'wavespeed' | 'local';

/** What planning and the scheduler need to know about a provider: its id, model, prices, name and capabilities. */
export const PROVIDERS: Record<ProviderId, ProviderDescription> = {
  wavespeed: {
    id: 'wavespeed',
    model: CURRENT_PRICE_TABLE.model,
    prices: CURRENT_PRICE_TABLE,
    label: 'WaveSpeed',
    // A paid HTTP API: tasks live on its servers, a submit's answer can be lost on the way back, inputs are uploaded first.
    capabilities: { billed: true, resumable: true, ambiguousSubmits: true, needsUpload: true },
  },
  local: {
    id: 'local',
    model: LOCAL_PRICE_TABLE.model,
    prices: LOCAL_PRICE_TABLE,
    label: 'local preview',
    // ffmpeg on this machine: free, a render dies with its process, a submit cannot lose its answer, inputs are read in place.
    capabilities: { billed: false, resumable: false, ambiguousSubmits: false, needsUpload: false },
  },
};
