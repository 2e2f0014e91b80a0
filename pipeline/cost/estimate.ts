import { DuologueError } from '../errors.ts';
import type { PriceTable } from './price-table.ts';
import type { Order, Resolution } from '../types.ts';

/**
 * Durations are kept in whole milliseconds so that cost is exact and the same
 * on every machine: ceil(5.000000001) must not bill 6 s for a 5 s clip that a
 * decoder reports with float noise.
 */
export function toMillis(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** Video length per DESIGN.md: meanwhile → max, sequential orders → sum. */
export function videoMillis(order: Order, leftMs: number, rightMs: number): number {
  return order === 'meanwhile' ? Math.max(leftMs, rightMs) : leftMs + rightMs;
}

export function billedSeconds(videoMs: number, table: PriceTable): number {
  return Math.max(table.minimumBilledSeconds, Math.ceil(videoMs / 1000));
}

/** USD, rounded to the cent's hundredth so sums do not collect float dust. */
export function costUsd(billed: number, resolution: Resolution, table: PriceTable): number {
  const perSecond = table.pricePerBlock[resolution] / table.blockSeconds;
  if (perSecond === undefined || Number.isNaN(perSecond)) {
    throw new DuologueError('E_INTERNAL', `no price for resolution ${resolution} in ${table.version}`);
  }
  return roundUsd(billed * perSecond);
}

/** What a delivered clip of `seconds` is billed (minimum, whole seconds up, per-second price). */
export function chargeFor(seconds: number, resolution: Resolution, table: PriceTable): number {
  return costUsd(billedSeconds(toMillis(seconds), table), resolution, table);
}

export function roundUsd(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}

/**
 * How far a delivered clip's length may be from the planned video length
 * before it is refused (media/verify-clip.ts). The provider bills what it
 * delivers, so a clip the check accepts may cost up to this much more video
 * than planned: budgets reserve that worst case (see `maxUsd`).
 */
export const CLIP_DURATION_TOLERANCE_S = 0.5;

export interface CostEstimate {
  videoSeconds: number;
  billedSeconds: number;
  costUsd: number;
  /** The most the provider may charge for a clip the check accepts (planned length + tolerance). */
  maxUsd: number;
}

export function estimate(
  order: Order,
  leftMs: number,
  rightMs: number,
  resolution: Resolution,
  table: PriceTable,
): CostEstimate {
  const ms = videoMillis(order, leftMs, rightMs);
  const billed = billedSeconds(ms, table);
  const worst = billedSeconds(ms + CLIP_DURATION_TOLERANCE_S * 1000, table);
  return { videoSeconds: ms / 1000, billedSeconds: billed, costUsd: costUsd(billed, resolution, table), maxUsd: costUsd(worst, resolution, table) };
}
