import { roundUsd } from '../cost/estimate.ts';
import type { Plan } from '../plan/index.ts';

/**
 * What a job needs of its cap: the in-process {@link Budget}, or a named
 * run's shared one (shared-budget.ts), whose moves are the store's and so
 * asynchronous. `key` names the hold (the shared budget's row for it).
 */
export interface CapBudget {
  readonly refusal?: string;
  reserve(usd: number, key: string): boolean | Promise<boolean>;
  settle(reservedUsd: number, chargedUsd: number, key: string): void | Promise<void>;
  release(reservedUsd: number, key: string): void | Promise<void>;
  /**
   * A named run's hold another worker left on `key` after submitting it (killed
   * or paused past its lease), taken over by the worker that now collects that
   * prediction, so its real charge is settled on the run's books; resolves to
   * the hold's amount (0: none). In-process budgets have nothing to adopt.
   */
  adopt?(key: string): Promise<number>;
}

/** The run's caps as the scheduler uses them: {@link Budgets}, or a named run's SharedBudgets. */
export interface RunBudgets {
  for(episodeId: string): CapBudget;
  refuseAll(reason: string): void;
  readonly spentUsd: number;
  readonly reservedUsd: number;
  readonly limitUsd: number | undefined;
}

/**
 * One cap's money: what is spent and what is held for submits in flight.
 * The invariant, at every instant: `spentUsd + reservedUsd ≤ limitUsd`.
 * A submit first reserves the most the provider may charge for it; the hold
 * is settled with the real charge when the outcome is known, or released when
 * nothing was charged. An ambiguous submit keeps its hold (it may be billed).
 *
 * A budget may sit under a second cap (`account`, the provider's balance):
 * a hold must fit both, and every move is made in both.
 */
export class Budget implements CapBudget {
  reservedUsd = 0;
  spentUsd = 0;
  /** Set when nothing more may be reserved at all (the provider refused a submit for lack of money): why. */
  refusal?: string;
  constructor(
    readonly limitUsd: number | undefined,
    private account?: Budget,
  ) {}

  /** True (and held) if `usd` fits beside what is already spent and held, here and under the account. */
  reserve(usd: number): boolean {
    if (this.refusal !== undefined || !this.fits(usd) || (this.account && !this.account.fits(usd))) return false;
    this.reservedUsd = roundUsd(this.reservedUsd + usd);
    this.account?.reserve(usd);
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
    this.account?.settle(reservedUsd, chargedUsd);
  }

  /** Nothing was charged: the hold is given back. */
  release(reservedUsd: number): void {
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
    this.account?.release(reservedUsd);
  }

  private fits(usd: number): boolean {
    if (this.refusal !== undefined) return false;
    return this.limitUsd === undefined || roundUsd(this.spentUsd + this.reservedUsd + usd) <= this.limitUsd;
  }
}

/**
 * A run's budgets by pool: one per pool the plan admitted its episodes under,
 * and one uncapped for the rest. Which kind of budget (in memory, or in the
 * shared books of a named run) is the subclass's choice; the lookup and the
 * totals are the same for both.
 */
export abstract class PooledBudgets<B extends CapBudget & { refusal?: string; readonly spentUsd: number; readonly reservedUsd: number }> implements RunBudgets {
  private pools = new Map<string, B>();
  private byEpisode = new Map<string, B>();
  private uncapped: B;
  readonly limitUsd: number | undefined;

  /** `make(poolId, limitUsd)`: the budget of one pool (`poolId` undefined: the uncapped one). */
  protected constructor(plan: Pick<Plan, 'budgets' | 'episodes' | 'spendCapUsd'>, make: (poolId: string | undefined, limitUsd: number | undefined) => B) {
    this.uncapped = make(undefined, undefined);
    for (const p of plan.budgets) if (p.kind !== 'balance') this.pools.set(p.id, make(p.id, p.limitUsd));
    for (const e of plan.episodes) this.byEpisode.set(e.id, (e.budgetPool !== undefined ? this.pools.get(e.budgetPool) : undefined) ?? this.uncapped);
    this.limitUsd = plan.spendCapUsd;
  }

  /** The budget a scene's spend counts against (its episode's pool). */
  for(episodeId: string): B {
    return this.byEpisode.get(episodeId) ?? this.uncapped;
  }

  /** From now on nothing is reserved (the provider will not take more submits); holds already made settle as usual. */
  refuseAll(reason: string): void {
    for (const b of this.all()) b.refusal ??= reason;
  }

  get spentUsd(): number {
    return roundUsd(this.all().reduce((sum, b) => sum + b.spentUsd, 0));
  }

  get reservedUsd(): number {
    return roundUsd(this.all().reduce((sum, b) => sum + b.reservedUsd, 0));
  }

  private all(): B[] {
    return [...this.pools.values(), this.uncapped];
  }
}

/**
 * The run's money, per cap the plan admitted its episodes under (one per
 * budget pool, an uncapped one for episodes under none, all of them under
 * the account's balance when the plan has one). The plan decided the caps
 * and which episodes fit; this only reserves, settles and releases against
 * them. Totals are what the live view shows.
 */
export class Budgets extends PooledBudgets<Budget> {
  constructor(plan: Pick<Plan, 'budgets' | 'episodes' | 'spendCapUsd'>) {
    const balance = plan.budgets.find((p) => p.kind === 'balance');
    const account = balance ? new Budget(balance.limitUsd) : undefined;
    super(plan, (_pool, limitUsd) => new Budget(limitUsd, account));
  }
}
