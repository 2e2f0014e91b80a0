import { roundUsd } from '../cost/estimate.ts';
import type { RunLedger } from '../cache/interfaces.ts';
import type { Plan } from '../plan/index.ts';
import { PooledBudgets, type CapBudget } from './budget.ts';

/**
 * One pool's money for a named run (`--run NAME`), kept in the store so every
 * worker of the run reserves against the same cap: the same moves as
 * {@link import('./budget.ts').Budget}, each one a transaction of the store's
 * (reserve checks spent + held + usd <= limit there, whoever else reserves).
 * The key names the hold: a worker holds at most one per key (its claim is exclusive).
 */
export class SharedBudget implements CapBudget {
  /** This worker's part, for its live view; the run's totals are in the store. */
  reservedUsd = 0;
  spentUsd = 0;
  refusal?: string;
  private holds = new Map<string, number>();

  constructor(
    private ledger: RunLedger,
    private runId: number,
    private owner: string,
    private pool: string,
    readonly limitUsd: number | undefined,
    private accountLimitUsd: number | undefined,
  ) {}

  async reserve(usd: number, key: string): Promise<boolean> {
    if (this.refusal !== undefined) return false;
    const request = { pool: this.pool, key, usd, owner: this.owner, limitUsd: this.limitUsd, accountLimitUsd: this.accountLimitUsd };
    let id = await this.ledger.reserve(this.runId, request);
    // No room: a crashed worker's holds may be what fills it; those proven unsubmitted go back, then one more try.
    if (id === undefined && (await this.ledger.releaseStaleHolds(this.runId)) > 0) id = await this.ledger.reserve(this.runId, request);
    if (id === undefined) return false;
    this.holds.set(key, id);
    this.reservedUsd = roundUsd(this.reservedUsd + usd);
    return true;
  }

  async adopt(key: string): Promise<number> {
    const found = await this.ledger.adoptHold(this.runId, key, this.owner);
    if (!found) return 0;
    this.holds.set(key, found.id);
    this.reservedUsd = roundUsd(this.reservedUsd + found.usd);
    return found.usd;
  }

  async settle(reservedUsd: number, chargedUsd: number, key: string): Promise<void> {
    const id = this.holds.get(key);
    this.holds.delete(key);
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
    this.spentUsd = roundUsd(this.spentUsd + chargedUsd);
    if (id !== undefined) await this.ledger.settleHold(this.runId, id, chargedUsd);
  }

  async release(reservedUsd: number, key: string): Promise<void> {
    const id = this.holds.get(key);
    this.holds.delete(key);
    this.reservedUsd = roundUsd(this.reservedUsd - reservedUsd);
    // Only while it is still this worker's: a worker paused past its lease whose hold another adopted
    // (and may be submitting on again) must not give it back.
    if (id !== undefined) await this.ledger.releaseHold(id, this.owner);
  }
}

/**
 * {@link import('./budget.ts').Budgets} for a named run: one shared budget per
 * pool the plan admitted its episodes under, all under the account's balance
 * when the plan has one. Used only with `--run`: without it a run's money
 * stays in memory, as it always did.
 */
export class SharedBudgets extends PooledBudgets<SharedBudget> {
  /** `poolName`: a pool's name in the shared books (the same on every machine). */
  constructor(plan: Pick<Plan, 'budgets' | 'episodes' | 'spendCapUsd'>, ledger: RunLedger, runId: number, owner: string, poolName: (id: string) => string = (id) => id) {
    const account = plan.budgets.find((p) => p.kind === 'balance')?.limitUsd;
    super(plan, (pool, limitUsd) => new SharedBudget(ledger, runId, owner, pool === undefined ? '' : poolName(pool), limitUsd, account));
  }
}
