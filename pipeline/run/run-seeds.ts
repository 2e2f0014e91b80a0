/**
 * A named run's join, with its seeds. `seed: random` draws a fresh seed at
 * plan time, so two workers of one run would plan different keys for that
 * scene (and the second be refused as planning other work). The worker that
 * creates the run stores the seeds it drew with it; a worker that joins and
 * drew others plans again with the run's, so every worker renders the same
 * keys. A seed the run does not have (the scene was not random when the run
 * began) stays this worker's draw: the join rules then decide, as for any
 * other change to the manifests.
 */
import type { NamedRun, NamedRunStart, RunLedger } from '../cache/interfaces.ts';
import type { Plan } from '../plan/index.ts';
import { capJsonOf, checkJoin, planFingerprint } from './named-run.ts';
import type { ManifestPlan } from './plan-manifests.ts';

export interface JoinWithSeeds {
  ledger: Pick<RunLedger, 'joinRun'>;
  /** The run's name, provider, args and cap as this worker was started. */
  start: Omit<NamedRunStart, 'plannedUsd' | 'capJson' | 'planFingerprint' | 'drawnSeeds'>;
  /** `--budget` as given (the caps every worker must agree on). */
  budgetOption?: number;
  manifests: ManifestPlan;
  plan: Plan;
  /** Plans again with these seeds for `seed: random` scenes (the run's). */
  replan(seeds: ReadonlyMap<string, number>): Promise<{ manifests: ManifestPlan; plan: Plan }>;
  /** The plan whose keys are the run's fingerprint (with lines written as text: keys from the text). @default the plan */
  fingerprintPlan?: (manifests: ManifestPlan, plan: Plan) => Promise<Plan>;
}

/** Joins (or creates) the run, planning with its seeds; refuses, before any spend, a worker whose caps or work differ. */
export async function joinWithSeeds(o: JoinWithSeeds): Promise<{ joined: NamedRun; manifests: ManifestPlan; plan: Plan }> {
  let { manifests, plan } = o;
  const fingerprint = async () => planFingerprint(o.fingerprintPlan ? await o.fingerprintPlan(manifests, plan) : plan);
  const joined = await o.ledger.joinRun({
    ...o.start,
    plannedUsd: plan.totals.costUsd,
    capJson: capJsonOf(o.budgetOption, plan),
    planFingerprint: await fingerprint(),
    drawnSeeds: Object.fromEntries(manifests.prepared.drawnSeeds),
  });
  if (!joined.created && drewOthers(manifests.prepared.drawnSeeds, joined.drawnSeeds)) ({ manifests, plan } = await o.replan(new Map(Object.entries(joined.drawnSeeds))));
  checkJoin(o.start.name, joined, { capJson: capJsonOf(o.budgetOption, plan), planFingerprint: await fingerprint() });
  return { joined, manifests, plan };
}

/** True when this worker drew, for a scene the run has a seed for, another seed than the run's. */
export function drewOthers(mine: ReadonlyMap<string, number>, run: Readonly<Record<string, number>>): boolean {
  return [...mine].some(([scene, seed]) => run[scene] !== undefined && run[scene] !== seed);
}
