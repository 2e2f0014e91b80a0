/**
 * PURE: what duologue recorded per prediction against what the provider
 * billed. The ledger equals the invoice when every recorded prediction was
 * billed what was recorded, nothing was recorded without a prediction, and
 * nothing in the run's window was billed that duologue does not know.
 */
import type { RecordedCharge } from '../cache/interfaces.ts';
import type { BillingRecord } from '../providers/types.ts';
import { roundUsd } from '../cost/estimate.ts';

export interface ReconcileLine {
  scene?: string;
  predictionId?: string;
  recordedUsd: number;
  billedUsd: number;
  /** Empty when they agree. */
  problem?: string;
}

export interface Reconciliation {
  lines: ReconcileLine[];
  recordedUsd: number;
  billedUsd: number;
  differences: number;
}

/**
 * @param inWindow billing records from the run's start to its end (charges nobody recorded are looked for there)
 * @param known true for a prediction id any run of this cache recorded
 */
export function reconcile(recorded: readonly RecordedCharge[], billed: readonly BillingRecord[], inWindow: (b: BillingRecord) => boolean, known: (id: string) => boolean): Reconciliation {
  const byId = new Map<string, number>();
  for (const b of billed) byId.set(b.predictionId, roundUsd((byId.get(b.predictionId) ?? 0) + b.usd));
  const lines: ReconcileLine[] = [];
  const ours = new Set<string>();
  for (const r of recorded) {
    const scene = `${r.episodeId}/${r.sceneId}`;
    if (r.predictionId === undefined) {
      lines.push({ scene, recordedUsd: r.costUsd, billedUsd: 0, problem: `recorded as maybe billed (${r.outcome}) with no prediction id: find the task on the dashboard and "duologue cache attach ${r.key.slice(0, 12)} ID"` });
      continue;
    }
    ours.add(r.predictionId);
    const usd = byId.get(r.predictionId) ?? 0;
    const same = roundUsd(usd) === roundUsd(r.costUsd);
    lines.push({ scene, predictionId: r.predictionId, recordedUsd: r.costUsd, billedUsd: usd, problem: same ? undefined : usd === 0 ? 'recorded, not billed' : 'billed differs from recorded' });
  }
  for (const [id, usd] of byId) {
    if (ours.has(id) || known(id)) continue;
    if (!billed.some((b) => b.predictionId === id && inWindow(b))) continue;
    lines.push({ predictionId: id, recordedUsd: 0, billedUsd: usd, problem: 'billed during the run, not recorded by duologue (an unanswered submit, or not from duologue)' });
  }
  return {
    lines,
    recordedUsd: roundUsd(lines.reduce((s, l) => s + l.recordedUsd, 0)),
    billedUsd: roundUsd(lines.reduce((s, l) => s + l.billedUsd, 0)),
    differences: lines.filter((l) => l.problem).length,
  };
}
