/** The video provider a render builds from its options (a ready `providerInstance` is used as given). */
import path from 'node:path';
import type { Store } from '../cache/interfaces.ts';
import { accountWindowFor } from '../cache/submit-window.ts';
import { RATE_LIMIT_WAIT, type RunEvents } from '../events.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import { createLocalProvider } from '../providers/local/provider.ts';
import type { Provider } from '../providers/types.ts';
import { createWavespeedProvider } from '../providers/wavespeed/provider.ts';
import type { TierSetting } from '../providers/wavespeed/tiers.ts';
import type { RenderOptions } from './render-options.ts';

export interface VideoProviderContext {
  cacheDir: string;
  ffmpeg: FfmpegPaths;
  store: Pick<Store, 'uploads'>;
  tier: TierSetting;
  concurrency: number;
  events: RunEvents;
}

export function videoProvider(options: RenderOptions, c: VideoProviderContext): Provider {
  const workDir = path.join(c.cacheDir, 'work');
  if (options.provider === 'local') return createLocalProvider({ workDir, ffmpeg: c.ffmpeg });
  return createWavespeedProvider({
    apiKey: options.apiKey!,
    baseUrl: options.baseUrl,
    ffmpeg: c.ffmpeg,
    workDir,
    uploads: c.store.uploads('wavespeed'),
    dispatcher: options.dispatcher,
    policy: options.policy,
    sleep: options.sleep,
    tier: c.tier,
    concurrency: c.concurrency,
    // A known tier's limit belongs to the account: paced through the store, shared by every process on it.
    submitWindow: accountWindowFor({ dir: c.cacheDir, url: options.storeUrl, provider: 'wavespeed', apiKey: options.apiKey! }),
    clock: options.clock,
    onRetry: (r) => c.events.emitEvent({ type: 'retry', ...r }),
    onRateLimitWait: (t) => c.events.emitEvent({ type: 'waiting', episode: t.episodeId, scene: t.sceneId, key: t.key, reason: RATE_LIMIT_WAIT }),
  });
}
