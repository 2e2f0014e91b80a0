/**
 * The one way from manifest files to a plan: read and inspect them (remote
 * inputs fetched into the cache), keep the episodes asked for, and plan them
 * against the cache's state. `render` and every command that looks at
 * manifests (`plan`, `validate`, `cache gc`) go through here, as every
 * changesets command goes through one `getReleasePlan`.
 */
import path from 'node:path';
import type { Store } from '../cache/interfaces.ts';
import { readCacheLookup } from '../cache/lookup.ts';
import type { PriceTable } from '../cost/price-table.ts';
import { DuologueError, type Diagnostic } from '../errors.ts';
import { episodeOutput } from '../manifest/output-rules.ts';
import type { Series } from '../types.ts';
import type { ClipStore } from '../cache/clips/index.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import { createRemoteFetcher } from '../media/remote.ts';
import { plan, planKeys, type Plan, type ProviderInfo } from '../plan/index.ts';
import { prepare, type Prepared } from './prepare.ts';
import { speechInfoFor, type SpeechInfo } from '../providers/speech-info.ts';
import { openSilenceMemo, type EdgeSilenceMemo } from '../cache/silence-memo.ts';
import { measureEdgeSilence } from './edge-silence.ts';

export interface PlanManifestsOptions {
  /** The cache's state (its file memo and renders); remote inputs go to `<cacheDir>/remote`, clips are in `<cacheDir>/clips`. */
  store: Pick<Store, 'files' | 'renders'>;
  /** Who voices lines written as text. @default the video provider's voice (speechInfoFor) */
  speech?: SpeechInfo;
  /** Plan scenes with a line not voiced on its estimate (`estimate`), or skip them (`skip`, after the speech stage). @default 'estimate' */
  unvoiced?: 'estimate' | 'skip';
  /**
   * Plan every line written as text as not voiced yet, whatever the speech
   * cache holds: the keys then depend on the manifests alone (a named run's
   * fingerprint, the same for a worker that joins before or after lines are
   * voiced). @default false
   */
  speechAsText?: boolean;
  /** Plan under no cap at all (a scene's exact figures once its lines are voiced: its episode was admitted already). @default false */
  uncapped?: boolean;
  cacheDir: string;
  /** Where complete clips are (default: `<cacheDir>/clips`, this machine's alone); a clip only there counts as cached. */
  clips?: ClipStore;
  ffmpeg: FfmpegPaths;
  /** Whose prices, limits and cache keys. */
  provider: ProviderInfo;
  /** Where episodes are written, checked before anything is spent; `false` for a command that writes none (`cache gc`). */
  outputs: { outDir: string; allowOutside?: boolean } | false;
  /** Only these episode ids (all when empty); an unknown one is a usage error. */
  episodes?: string[];
  /** `--budget`: one cap for the run, over any manifest's `budget:`. */
  budgetUsd?: number;
  signal?: AbortSignal;
  /** Draws seeds for `seed: random` (tests fix it). */
  random?: (maxExclusive: number) => number;
  /** Seeds drawn already for `seed: random` scenes, by `episode/scene` (a named run's): used instead of drawing. */
  seeds?: ReadonlyMap<string, number>;
  stats?: { hashed: number; probed: number; memoHits: number };
  /** Where measured edge silence is remembered. @default the cache dir's own (`<cacheDir>/memo/silence`) */
  silenceMemo?: EdgeSilenceMemo;
  silenceStats?: { measured: number; memoHits: number };
}

export interface ManifestPlan {
  prepared: Prepared;
  /** The series with only the episodes asked for. */
  series: Series;
  warnings: Diagnostic[];
  /** Plans at these prices (default: the provider's table) under this balance; pure, so it may be called again (live prices). */
  planWith(prices?: PriceTable, balanceUsd?: number, spentUsd?: (poolId: string) => number): Plan;
  /** Where an episode's file goes: its `output:` or `<out>/<id>.mp4`. */
  outputOf(episodeId: string, output?: string): string;
}

export async function planManifests(files: readonly string[], options: PlanManifestsOptions): Promise<ManifestPlan> {
  const { cacheDir, provider } = options;
  const prepared = await prepare(files, {
    memo: options.store.files,
    ffmpeg: options.ffmpeg,
    prices: provider.prices,
    signal: options.signal,
    random: options.random,
    seeds: options.seeds,
    stats: options.stats,
    fetchRemote: createRemoteFetcher(path.join(cacheDir, 'remote')),
    speech: { info: options.speech ?? speechInfoFor(provider.id), renders: options.speechAsText ? { getMany: async () => new Map() } : options.store.renders, clips: options.clips, clipsDir: path.join(cacheDir, 'clips') },
    outputs: options.outputs ? { outDir: options.outputs.outDir, cacheDir, allowOutside: options.outputs.allowOutside } : undefined,
  });
  const series = selectEpisodes(prepared.series, options.episodes);
  // Edge silence feeds the cost split and `trim: edges` (which changes keys): measured before any key is computed.
  await measureEdgeSilence(prepared.media, { memo: options.silenceMemo ?? openSilenceMemo(cacheDir), ffmpeg: options.ffmpeg, signal: options.signal, stats: options.silenceStats });
  // Every row the plan will ask about is read here, at once: the plan itself stays pure (and may be redone at live prices).
  const lookup = await readCacheLookup(options.store.renders, planKeys({ ...prepared, series, provider }), { clipsDir: path.join(cacheDir, 'clips'), clips: options.clips, signal: options.signal });
  const outDir = options.outputs ? options.outputs.outDir : cacheDir;
  return {
    prepared,
    series,
    warnings: prepared.warnings,
    planWith: (prices = provider.prices, balanceUsd, spentUsd) =>
      options.uncapped
        ? plan({ ...prepared, series: { ...series, manifests: series.manifests.map((m) => ({ ...m, budget: undefined })) }, provider: { ...provider, prices }, lookup, unvoiced: options.unvoiced })
        : plan({ ...prepared, series, provider: { ...provider, prices }, budgetUsd: options.budgetUsd, balanceUsd, spentUsd, lookup, unvoiced: options.unvoiced }),
    outputOf: (episodeId, output) => episodeOutput({ id: episodeId, output }, outDir),
  };
}

function selectEpisodes(series: Series, wanted?: string[]): Series {
  if (!wanted || wanted.length === 0) return series;
  const known = new Set(series.episodes.map((e) => e.id));
  const unknown = wanted.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new DuologueError('E_USAGE', `--episode ${unknown.join(', ')}: no such episode (known: ${[...known].join(', ')})`);
  }
  return { ...series, episodes: series.episodes.filter((e) => wanted.includes(e.id)) };
}
