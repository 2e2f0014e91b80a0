import { createHash } from 'node:crypto';
import path from 'node:path';
import type { NamedRun } from '../cache/interfaces.ts';
import { DuologueError } from '../errors.ts';
import type { Plan } from '../plan/index.ts';

/**
 * A budget pool's name in a named run's shared books: the same on every
 * machine (a manifest's pool by its file name, not its absolute path, which
 * differs between checkouts). Two manifests of one name share their holds,
 * which only makes each cap stricter.
 */
export function sharedPoolName(poolId: string): string {
  return poolId === 'run' || poolId === 'balance' ? poolId : path.basename(poolId);
}

/** The caps every worker of a named run must agree on, canonical: `--budget` and the manifests' own budgets (the balance is each worker's reading, so left out). */
export function capJsonOf(budgetUsd: number | undefined, plan: Pick<Plan, 'budgets'>): string {
  const pools = plan.budgets
    .filter((p) => p.kind !== 'balance' && p.id !== 'run')
    .map((p) => [sharedPoolName(p.id), p.limitUsd] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ budgetUsd: budgetUsd ?? null, pools });
}

/** Hash of the plan's cache keys, sorted: workers of one run render the same work. */
export function planFingerprint(plan: Pick<Plan, 'episodes'>): string {
  const keys = plan.episodes.flatMap((e) => e.scenes.map((s) => s.key)).sort();
  return createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
}

/** Refuses, before any spend, a worker whose caps or work differ from the run it joins; says what differs. */
export function checkJoin(name: string, joined: Pick<NamedRun, 'created' | 'capJson' | 'planFingerprint'>, mine: { capJson: string; planFingerprint: string }): void {
  if (joined.created) return;
  if (joined.capJson !== mine.capJson) {
    const theirs = JSON.parse(joined.capJson) as { budgetUsd: number | null; pools: [string, number][] };
    const ours = JSON.parse(mine.capJson) as typeof theirs;
    const what =
      theirs.budgetUsd !== ours.budgetUsd
        ? `--budget ${usd(ours.budgetUsd)} here, ${usd(theirs.budgetUsd)} in the run`
        : `manifest budgets ${poolsText(ours.pools)} here, ${poolsText(theirs.pools)} in the run`;
    throw new DuologueError('E_USAGE', `--run ${name}: this worker's cap differs from the run it joins (${what}); every worker of a run must be started with the same cap, or use another run name`);
  }
  if (joined.planFingerprint !== mine.planFingerprint) {
    throw new DuologueError(
      'E_USAGE',
      `--run ${name}: this worker's manifests plan other scenes than the run it joins (plan fingerprint ${mine.planFingerprint} here, ${joined.planFingerprint} in the run); start every worker on the same manifests and --episode selection, or use another run name`,
    );
  }
}

function usd(v: number | null): string {
  return v === null ? 'none' : `$${v}`;
}

function poolsText(pools: [string, number][]): string {
  return pools.length === 0 ? 'none' : pools.map(([n, l]) => `${n} $${l}`).join(', ');
}
