import { roundUsd } from './cost/estimate.ts';

/**
 * One cap's money: what is spent and what is held for submits in flight.
 * The invariant, at every instant: `spentUsd + reservedUsd ≤ limitUsd`.
 * A submit first reserves the most the provider may charge for it; the hold
 * is settled with the real charge when the outcome is known, or released when
 * nothing was charged. An ambiguous submit keeps its hold (it may be billed).
 */
export class Budget {
  reservedUsd = 0;
  spentUsd = 0;
  constructor(readonly limitUsd: number | undefined) {}

  /** True (and held) if `usd` fits beside what is already spent and held. */
  reserve(usd: number): boolean {
    if (this.limitUsd !== undefined && roundUsd(this.spentUsd + this.reservedUsd + usd) > this.limitUsd) return false;
    this.reservedUsd = roundUsd(this.reservedUsd + usd);
    return true;
  }

  /**
   * The charge is known: the hold becomes spend. A charge above the hold can
   * only come from the provider billing past the worst case the clip check
   * accepts; it is recorded as it is (the money is gone), and every later
   * reserve sees it.
   */
  settle(reservedUsd: number, chargedUsd: number): void {
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
    this.spentUsd = roundUsd(this.spentUsd + chargedUsd);
  }

  /** Nothing was charged: the hold is given back. */
  release(reservedUsd: number): void {
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
  }
}

/**
 * The run's caps: one per budget pool of the plan (`--budget` makes one for
 * the run; otherwise each manifest's `budget:` caps its own episodes), and an
 * uncapped one for episodes under no budget. Totals are what the live view
 * shows.
 */
export class Budgets {
  private pools = new Map<string, Budget>();
  private uncapped = new Budget(undefined);

  constructor(pools: readonly { id: string; limitUsd: number }[]) {
    for (const p of pools) this.pools.set(p.id, new Budget(p.limitUsd));
  }

  /** The budget a scene's spend counts against (its episode's pool). */
  for(poolId: string | undefined): Budget {
    return (poolId !== undefined ? this.pools.get(poolId) : undefined) ?? this.uncapped;
  }

  get spentUsd(): number {
    return roundUsd(this.all().reduce((sum, b) => sum + b.spentUsd, 0));
  }

  get reservedUsd(): number {
    return roundUsd(this.all().reduce((sum, b) => sum + b.reservedUsd, 0));
  }

  /** The sum of the caps, or undefined when any spend is uncapped. */
  get limitUsd(): number | undefined {
    if (this.pools.size === 0) return undefined;
    return roundUsd([...this.pools.values()].reduce((sum, b) => sum + (b.limitUsd ?? 0), 0));
  }

  private all(): Budget[] {
    return [...this.pools.values(), this.uncapped];
  }
}
