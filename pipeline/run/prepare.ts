/**
 * read → inspect: manifests parsed and checked, every input hashed and
 * probed (memoized in the cache database), length rules applied. Everything
 * that can be wrong before money is spent is found here, all at once.
 */
import { ManifestErrors, type Diagnostic } from '../errors.ts';
import type { FileMemo } from '../cache/interfaces.ts';
import { readManifests } from '../manifest/load.ts';
import { checkSceneLengths } from '../manifest/media-rules.ts';
import { checkOutputs, type OutputRuleOptions } from '../manifest/output-rules.ts';
import { drawSeed } from '../manifest/seed.ts';
import type { Series } from '../types.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import type { MediaFacts } from '../media/facts.ts';
import { inspectMedia } from './inspect.ts';
import { resolveSpeech, type VoicedSeries } from './speech.ts';
import type { SpeechInfo } from '../providers/speech-info.ts';
import type { RenderStore } from '../cache/interfaces.ts';
import type { ClipStore } from '../cache/clips/index.ts';
import type { PriceTable } from '../cost/price-table.ts';

export interface PrepareOptions {
  /** The cache's media memo (`store.files`): unchanged files are not read again. */
  memo: FileMemo;
  ffmpeg: FfmpegPaths;
  prices: PriceTable;
  fetchRemote?: (url: string, signal?: AbortSignal) => Promise<string>;
  /** Draws seeds for `seed: random`; a collaborator so tests can fix it. */
  random?: (maxExclusive: number) => number;
  /** Seeds drawn already for `seed: random` scenes, by `episode/scene` (a named run's): used instead of drawing. */
  seeds?: ReadonlyMap<string, number>;
  signal?: AbortSignal;
  /** Kill a probe of an input that runs longer than this. @default CHILD_TIMEOUTS.ffprobeMs */
  probeTimeoutMs?: number;
  stats?: { hashed: number; probed: number; memoHits: number };
  /**
   * Check where episodes will be written (validate, plan, render). Left out
   * by commands that write no episode (`cache gc`).
   */
  outputs?: OutputRuleOptions;
  /** Lines written as text: resolved against the speech cache (voiced ones become their audio files). */
  speech?: { info: SpeechInfo; renders: Pick<RenderStore, 'getMany'>; clips?: ClipStore; clipsDir: string };
}

export interface Prepared {
  series: Series;
  media: Map<string, MediaFacts>;
  drawnSeeds: Map<string, number>;
  /** Warnings only: errors are thrown as ManifestErrors. */
  warnings: Diagnostic[];
  /** Lines written as text: what is voiced, what is left to voice. */
  speech?: VoicedSeries;
}

export async function prepare(files: readonly string[], options: PrepareOptions): Promise<Prepared> {
  const read = await readManifests(files);
  const { diagnostics } = read;
  const hasText = read.series.episodes.some((e) => e.scenes.some((s) => (s.audio.form === 'lines' ? s.audio.lines.map((l) => l.media) : [s.audio.left, s.audio.right]).some((r) => r?.kind === 'speech')));
  const speech = hasText && options.speech && !diagnostics.some((d) => d.severity === 'error') ? await resolveSpeech(read.series, { ...options.speech, signal: options.signal }) : undefined;
  const series = speech?.series ?? read.series;
  const [inspection, outputs] = await Promise.all([
    inspectMedia(series, {
      memo: options.memo,
      ffmpeg: options.ffmpeg,
      fetchRemote: options.fetchRemote,
      signal: options.signal,
      probeTimeoutMs: options.probeTimeoutMs,
      stats: options.stats,
    }),
    options.outputs ? checkOutputs(series, options.outputs) : [],
  ]);
  for (const [location, facts] of speech?.pendingFacts ?? []) inspection.media.set(location, facts);
  const all = [...diagnostics, ...inspection.diagnostics];
  if (!all.some((d) => d.severity === 'error')) all.push(...checkSceneLengths(series, inspection.media, options.prices));
  all.push(...outputs);
  if (all.some((d) => d.severity === 'error')) throw new ManifestErrors(all);

  const drawnSeeds = new Map<string, number>();
  for (const ep of series.episodes) {
    for (const scene of ep.scenes) {
      const at = `${ep.id}/${scene.sceneId}`;
      if (scene.seed.kind === 'random') drawnSeeds.set(at, options.seeds?.get(at) ?? drawSeed(options.random));
    }
  }
  return { series, media: inspection.media, drawnSeeds, warnings: all, speech };
}
