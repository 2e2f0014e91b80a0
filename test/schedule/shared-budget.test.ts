/** SharedBudgets: a named run's caps through the store, as two workers (two stores on one cache) see them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import type { Plan } from '../../pipeline/plan/index.ts';
import { INPUTS } from '../cache/contract.ts';
import { SharedBudgets } from '../../pipeline/schedule/shared-budget.ts';

type PlanCaps = Pick<Plan, 'budgets' | 'episodes' | 'spendCapUsd'>;
const plan = (balance?: number): PlanCaps =>
  ({
    budgets: [{ id: 'run', limitUsd: 1, reservedUsd: 0 }, ...(balance === undefined ? [] : [{ id: 'balance', kind: 'balance', limitUsd: balance, reservedUsd: 0 }])],
    episodes: [
      { id: 'ep1', budgetPool: 'run', scenes: [] },
      { id: 'free', scenes: [] },
    ],
    spendCapUsd: 1,
  }) as unknown as PlanCaps;

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function twoWorkers(p = plan()) {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-shared-budget-'));
  const clock = { now: 1_000_000 };
  const open = async (owner: string) => {
    const s = await openStore({ dir, owner, now: () => clock.now, leaseMs: 10_000 });
    stores.push(s);
    return s;
  };
  const a = await open('other-host:1:1:a');
  const b = await open('other-host:2:1:b');
  const { id } = await a.ledger.joinRun({ name: 'night', provider: 'wavespeed', args: [], plannedUsd: 1, capJson: '{}', planFingerprint: 'fp' });
  return { a, b, clock, run: id, budgetsA: new SharedBudgets(p, a.ledger, id, a.renders.owner), budgetsB: new SharedBudgets(p, b.ledger, id, b.renders.owner) };
}

describe('SharedBudgets', () => {
  it('two workers reserve against one cap; each sees its own part, the store the run’s total', async () => {
    const { a, run, budgetsA, budgetsB } = await twoWorkers();
    expect(await budgetsA.for('ep1').reserve(0.6, 'k1')).toBe(true);
    expect(await budgetsB.for('ep1').reserve(0.6, 'k2')).toBe(false); // 0.6 + 0.6 > 1, though B alone holds nothing
    expect(await budgetsB.for('ep1').reserve(0.4, 'k2')).toBe(true);
    expect([budgetsA.reservedUsd, budgetsB.reservedUsd]).toEqual([0.6, 0.4]);
    await budgetsA.for('ep1').settle(0.6, 0.3, 'k1');
    await budgetsB.for('ep1').release(0.4, 'k2');
    expect([budgetsA.spentUsd, budgetsA.reservedUsd, budgetsB.reservedUsd]).toEqual([0.3, 0, 0]);
    expect(await a.ledger.holdTotals(run)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
    // Under no cap, anything fits; refuseAll stops every pool.
    expect(await budgetsB.for('free').reserve(5, 'k3')).toBe(true);
    budgetsB.refuseAll('insufficient balance');
    expect(await budgetsB.for('ep1').reserve(0.01, 'k4')).toBe(false);
    expect(budgetsB.for('free').refusal).toBe('insufficient balance');
  });

  it('the account balance caps every pool of the run together', async () => {
    const { budgetsA, budgetsB } = await twoWorkers(plan(0.5));
    expect(await budgetsA.for('free').reserve(0.3, 'k1')).toBe(true);
    expect(await budgetsB.for('ep1').reserve(0.3, 'k2')).toBe(false);
    expect(await budgetsB.for('ep1').reserve(0.2, 'k2')).toBe(true);
  });

  it('a full cap frees a crashed worker’s hold whose key is proven unsubmitted, then reserves; a submitting key keeps its hold', async () => {
    const { a, b, clock, budgetsA, budgetsB } = await twoWorkers();
    const claim = (s: Store, key: string) => s.renders.claim({ key, inputs: INPUTS, episodeId: 'ep1', sceneId: key, estimateUsd: 0.5 });
    await claim(a, 'k1');
    await claim(a, 'k2');
    expect(await budgetsA.for('ep1').reserve(0.5, 'k1')).toBe(true);
    expect(await budgetsA.for('ep1').reserve(0.5, 'k2')).toBe(true);
    await a.renders.markSubmitting('k2'); // may be paid: its hold stays
    await claim(b, 'k3');
    expect(await budgetsB.for('ep1').reserve(0.5, 'k3')).toBe(false); // A's lease still runs
    clock.now += 10_001; // A is gone
    await b.renders.renew(); // B's heartbeat: its claims live on
    expect(await budgetsB.for('ep1').reserve(0.5, 'k3')).toBe(true); // k1's hold went back, k2's did not
    expect(await budgetsB.for('ep1').reserve(0.01, 'k4')).toBe(false);
  });
});
