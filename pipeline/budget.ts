import { roundUsd } from './cost/estimate.ts';

/**
 * Money held for submits. A scene's estimate is reserved before it is
 * submitted; the sum of reservations never exceeds the limit. When the clip
 * arrives, its reservation is settled with the cost of what was delivered.
 */
export class Budget {
  reservedUsd = 0;
  spentUsd = 0;
  constructor(readonly limitUsd: number | undefined) {}

  /** True (and held) if `usd` fits under the limit. */
  reserve(usd: number): boolean {
    if (this.limitUsd !== undefined && roundUsd(this.reservedUsd + usd) > this.limitUsd) return false;
    this.reservedUsd = roundUsd(this.reservedUsd + usd);
    return true;
  }

  /** The clip arrived: the hold becomes spend (the delivered cost). */
  settle(reservedUsd: number, actualUsd: number): void {
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
    this.spentUsd = roundUsd(this.spentUsd + actualUsd);
  }

  /** Failed with no charge. An ambiguous submit keeps its hold: it may have been billed. */
  release(reservedUsd: number): void {
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
  }
}
