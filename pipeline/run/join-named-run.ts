/**
 * `--run NAME`: this worker joins the run (or creates it) before any spend,
 * on the run's seeds and fingerprint (run-seeds.ts), and gets the run's
 * shared caps. A late joiner admits episodes against what the run has left,
 * not the whole cap.
 */
import type { RunLedger } from '../cache/interfaces.ts';
import { roundUsd } from '../cost/estimate.ts';
import type { PriceTable } from '../cost/price-table.ts';
import type { Plan } from '../plan/index.ts';
import { SharedBudgets } from '../schedule/shared-budget.ts';
import { sharedPoolName } from './named-run.ts';
import type { ManifestPlan, PlanManifestsOptions } from './plan-manifests.ts';
import { joinWithSeeds } from './run-seeds.ts';

export interface JoinNamedRun {
  name: string;
  ledger: RunLedger;
  /** This worker's claim owner (the store's). */
  owner: string;
  provider: string;
  args: string[];
  /** The plan's cap; `budgetOption` is `--budget` as given (the caps every worker must agree on). */
  budgetUsd?: number;
  budgetOption?: number;
  manifests: ManifestPlan;
  plan: Plan;
  prices: PriceTable;
  balanceUsd?: number;
  /** Plans the same files again with these options changed. */
  planAgain: (changed: Partial<PlanManifestsOptions>) => Promise<ManifestPlan>;
}

export async function joinNamedRun(o: JoinNamedRun): Promise<{ runId: number; manifests: ManifestPlan; plan: Plan; shared: SharedBudgets }> {
  const { ledger } = o;
  const { joined, manifests, ...planned } = await joinWithSeeds({
    ledger,
    start: { name: o.name, provider: o.provider, args: o.args, budgetUsd: o.budgetUsd },
    budgetOption: o.budgetOption,
    manifests: o.manifests,
    plan: o.plan,
    replan: async (seeds) => {
      const again = await o.planAgain({ seeds });
      return { manifests: again, plan: again.planWith(o.prices, o.balanceUsd) };
    },
    // A scene's video key is made from its speech's bytes, so a worker joining after some lines are voiced
    // plans other keys than one that joined before: with lines written as text, the fingerprint is of the
    // plan with every line as text (keys from the manifests alone, on the same seeds).
    fingerprintPlan: async (m, p) => (m.prepared.speech ? (await o.planAgain({ speechAsText: true, seeds: m.prepared.drawnSeeds })).planWith(o.prices) : p),
  });
  let plan = planned.plan;
  await ledger.joinWorker(joined.id);
  if (!joined.created) {
    // Joined late (a rerun job, a worker started after the others): episodes are admitted against
    // what the run has left, not the whole cap, so none is started that the cap can no longer finish.
    // Taken: what the run spent, and what other workers hold for keys this plan does not count as its
    // own misses (in flight, or rendered by now); holds on its own misses are in its plan already.
    // A line still to voice is its scene's miss too: its speech hold (another worker voicing it) is in this plan already.
    const ownMisses = [...new Set(plan.episodes.flatMap((e) => e.scenes.filter((s) => s.action === 'render' || s.action === 'skip').flatMap((s) => [s.key, ...s.pendingSpeech.map((p) => p.key)])))];
    const taken = new Map<string, number>();
    for (const p of plan.budgets) {
      if (p.kind === 'balance') continue;
      const t = await ledger.holdTotals(joined.id, sharedPoolName(p.id), ownMisses);
      taken.set(p.id, roundUsd(t.spentUsd + t.reservedUsd));
    }
    if ([...taken.values()].some((usd) => usd > 0)) plan = manifests.planWith(o.prices, o.balanceUsd, (id) => taken.get(id) ?? 0);
  }
  const shared = new SharedBudgets(plan, ledger, joined.id, o.owner, sharedPoolName);
  // A crashed worker's holds whose keys were never submitted go back before this one reserves.
  await ledger.releaseStaleHolds(joined.id);
  return { runId: joined.id, manifests, plan, shared };
}
