/**
 * Where a scene's billed seconds go (issue 16). WaveSpeed bills
 * max(minimum, ceil(video seconds)); of those seconds, some carry speech and
 * the rest is paid for nothing:
 * - padding: a clip shorter than the minimum is billed as the minimum;
 * - rounding: a longer one is billed up to the next whole second;
 * - leading / trailing silence: nobody speaks yet, or any more.
 * speech + leading + trailing + padding + rounding = billed, to the millisecond.
 * Pure; every duration in whole milliseconds.
 */
import { roundUsd } from './estimate.ts';
import type { PriceTable } from './price-table.ts';
import type { Resolution } from '../types.ts';

export interface BilledSplit {
  billedMs: number;
  speechMs: number;
  leadingSilenceMs: number;
  trailingSilenceMs: number;
  paddingMs: number;
  roundingMs: number;
}

/**
 * Splits the billed length of a `videoMs` clip whose first `leadingMs` and
 * last `trailingMs` are silent (clamped so they never overlap: an all-silent
 * clip is all leading silence).
 */
export function splitBilled(videoMs: number, leadingMs: number, trailingMs: number, table: PriceTable): BilledSplit {
  const minimumMs = table.minimumBilledSeconds * 1000;
  const billedMs = Math.max(minimumMs, Math.ceil(videoMs / 1000) * 1000);
  const lead = clamp(leadingMs, 0, videoMs);
  const trail = clamp(trailingMs, 0, videoMs - lead);
  const paddingMs = Math.max(0, minimumMs - videoMs);
  return {
    billedMs,
    speechMs: videoMs - lead - trail,
    leadingSilenceMs: lead,
    trailingSilenceMs: trail,
    paddingMs,
    roundingMs: billedMs - videoMs - paddingMs,
  };
}

export interface SplitUsd {
  speechUsd: number;
  silenceUsd: number;
  paddingUsd: number;
  roundingUsd: number;
  /** silence + padding + rounding: what was paid for nobody speaking. */
  wasteUsd: number;
}

/**
 * The split in dollars at this resolution's per-second price. Speech takes
 * what the rounding of the other parts leaves, so the parts add up to the
 * scene's cost exactly.
 */
export function splitUsd(split: BilledSplit, resolution: Resolution, table: PriceTable): SplitUsd {
  const perMs = table.pricePerBlock[resolution] / table.blockSeconds / 1000;
  const total = roundUsd(split.billedMs * perMs);
  const silenceUsd = roundUsd((split.leadingSilenceMs + split.trailingSilenceMs) * perMs);
  const paddingUsd = roundUsd(split.paddingMs * perMs);
  const roundingUsd = roundUsd(split.roundingMs * perMs);
  const wasteUsd = roundUsd(silenceUsd + paddingUsd + roundingUsd);
  return { speechUsd: roundUsd(total - wasteUsd), silenceUsd, paddingUsd, roundingUsd, wasteUsd };
}

/** Adds splits up (totals of an episode or a run). */
export function addSplits(splits: readonly BilledSplit[]): BilledSplit {
  const sum = (k: keyof BilledSplit) => splits.reduce((n, s) => n + s[k], 0);
  return {
    billedMs: sum('billedMs'),
    speechMs: sum('speechMs'),
    leadingSilenceMs: sum('leadingSilenceMs'),
    trailingSilenceMs: sum('trailingSilenceMs'),
    paddingMs: sum('paddingMs'),
    roundingMs: sum('roundingMs'),
  };
}

export function addSplitUsd(parts: readonly SplitUsd[]): SplitUsd {
  const sum = (k: keyof SplitUsd) => roundUsd(parts.reduce((n, s) => n + s[k], 0));
  return { speechUsd: sum('speechUsd'), silenceUsd: sum('silenceUsd'), paddingUsd: sum('paddingUsd'), roundingUsd: sum('roundingUsd'), wasteUsd: sum('wasteUsd') };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
