/**
 * duologue as a library. The CLI is a thin user of these.
 *
 * ```ts
 * import { render, RunEvents } from 'duologue';
 * const events = new RunEvents();
 * events.on('event', (e) => { if (e.type === 'done') console.log(e.scene, e.costUsd); });
 * await render(['show.yaml'], { provider: 'local', events });
 * ```
 */
export { loadManifests, readManifests } from './manifest/load.ts';
export { prepare } from './run/prepare.ts';
export { planManifests } from './run/plan-manifests.ts';
export { plan, planKeys } from './plan/index.ts';
export { render } from './run/render.ts';
export { boundHeapGrowth } from './run/heap.ts';
export { importFountain } from './import/index.ts';
export { stitchEpisode as stitch } from './stitch/episode.ts';
export { episodeFormat } from './stitch/format.ts';
export { RunEvents } from './events.ts';
export { DuologueError, ManifestErrors, formatDiagnostic } from './errors.ts';
export { openStore } from './cache/store.ts';
export { readCacheLookup } from './cache/lookup.ts';
export { PROVIDERS } from './providers/info.ts';
export { createLocalProvider } from './providers/local/provider.ts';
export { createWavespeedProvider } from './providers/wavespeed/provider.ts';
export { CURRENT_PRICE_TABLE, PRICE_TABLES } from './cost/price-table.ts';
export { ACCOUNT_TIERS } from './providers/wavespeed/tiers.ts';

export type { RunEvent } from './events.ts';
export type { Plan, PlannedEpisode, PlannedScene, PlanInput } from './plan/index.ts';
export type { ManifestPlan, PlanManifestsOptions } from './run/plan-manifests.ts';
export type { Store, StoreOptions, StoreParts, RenderStore, RunLedger, UploadMemo, FileMemo, CacheAdmin } from './cache/interfaces.ts';
export type { RenderOptions, RenderResult, EpisodeOutcome } from './run/render.ts';
export type { ImportOptions, ImportResult } from './import/index.ts';
export type { StitchInput, StitchResult } from './stitch/episode.ts';
export type { EpisodeSeams } from './stitch/finisher.ts';
export type { Series, EpisodeSpec, SceneSpec } from './types.ts';
export type { Provider, RenderTask, PollResult } from './providers/types.ts';
export type { Diagnostic, ErrorCode } from './errors.ts';
export type { AccountTier, TierName, TierSetting } from './providers/wavespeed/tiers.ts';
