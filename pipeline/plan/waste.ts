/**
 * The plan's view of money paid for nothing (issue 16): each scene's billed
 * seconds split into speech, edge silence, padding and rounding, and what
 * `trim: edges` saves (or would save, where it is off). Pure.
 */
import { estimate, roundUsd } from '../cost/estimate.ts';
import type { PriceTable } from '../cost/price-table.ts';
import { addSplits, addSplitUsd, splitBilled, splitUsd, type BilledSplit, type SplitUsd } from '../cost/waste.ts';
import { SILENCE } from '../defaults.ts';
import type { MediaFacts } from '../media/facts.ts';
import { sceneEdgeSilence } from '../media/speech-span.ts';
import { sceneTracks, type SceneTracks } from '../media/timeline.ts';
import { trimTracks } from '../media/trim.ts';
import type { SceneSpec } from '../types.ts';

type Facts = ReadonlyMap<string, MediaFacts>;

export interface TrimFigures {
  /** `trim: edges` is set on the scene (else: what it would do with the default margin). */
  on: boolean;
  marginMs: number;
  /** The scene sent whole. */
  untrimmedVideoSeconds: number;
  untrimmedBilledSeconds: number;
  untrimmedUsd: number;
  /** Trimmed vs whole, from scratch. */
  savedBilledSeconds: number;
  savedUsd: number;
}

export interface SceneWaste {
  /** Of the tracks as sent (trimmed when trim is on). */
  split: BilledSplit;
  usd: SplitUsd;
  trim: TrimFigures;
  /** Whether every input's edge silence was measured (else silence counts as speech). */
  measured: boolean;
}

/** The tracks sent (trimmed when the scene asks) and the whole ones. */
export function tracksOf(spec: SceneSpec, media: Facts): { tracks: SceneTracks; untrimmed: SceneTracks } {
  const untrimmed = sceneTracks(spec, media);
  return { tracks: spec.trim ? trimTracks(spec.order, untrimmed, media, spec.trim.marginMs) : untrimmed, untrimmed };
}

export function sceneWaste(spec: SceneSpec, tracks: SceneTracks, untrimmed: SceneTracks, media: Facts, prices: PriceTable): SceneWaste {
  const sent = estimate(spec.order, tracks.left.durationMs, tracks.right.durationMs, spec.resolution, prices);
  const videoMs = Math.round(sent.videoSeconds * 1000);
  const edges = sceneEdgeSilence(spec.order, tracks, videoMs, media);
  const split = splitBilled(videoMs, edges.leadingMs, edges.trailingMs, prices);
  const whole = estimate(spec.order, untrimmed.left.durationMs, untrimmed.right.durationMs, spec.resolution, prices);
  // Where trim is off, what it would save with the default margin: advice shown before anything is spent.
  const marginMs = spec.trim?.marginMs ?? Math.round(SILENCE.trimMarginSeconds * 1000);
  const trimmed = spec.trim ? sent : (() => {
    const t = trimTracks(spec.order, untrimmed, media, marginMs);
    return estimate(spec.order, t.left.durationMs, t.right.durationMs, spec.resolution, prices);
  })();
  return {
    split,
    usd: splitUsd(split, spec.resolution, prices),
    trim: {
      on: spec.trim !== undefined,
      marginMs,
      untrimmedVideoSeconds: whole.videoSeconds,
      untrimmedBilledSeconds: whole.billedSeconds,
      untrimmedUsd: whole.costUsd,
      savedBilledSeconds: whole.billedSeconds - trimmed.billedSeconds,
      savedUsd: roundUsd(whole.costUsd - trimmed.costUsd),
    },
    measured: [spec.audio.form === 'pair' ? [spec.audio.left, spec.audio.right] : spec.audio.lines.map((l) => l.media)]
      .flat()
      .every((ref) => !ref || (media.get(ref.location) as { edges?: unknown } | undefined)?.edges !== undefined),
  };
}

export interface WasteTotals {
  split: BilledSplit;
  usd: SplitUsd;
  /** What `trim: edges` saves where it is on. */
  trimSavedUsd: number;
  /** What it would save on the scenes where it is off. */
  trimPossibleUsd: number;
}

/** Every scene's figures added up, from scratch (what the scenes cost whether cached or not). */
export function totalWaste(scenes: readonly { waste: SceneWaste }[]): WasteTotals {
  const sum = (on: boolean) => roundUsd(scenes.reduce((n, s) => n + (s.waste.trim.on === on ? s.waste.trim.savedUsd : 0), 0));
  return {
    split: addSplits(scenes.map((s) => s.waste.split)),
    usd: addSplitUsd(scenes.map((s) => s.waste.usd)),
    trimSavedUsd: sum(true),
    trimPossibleUsd: sum(false),
  };
}
