/**
 * The rule of an episode-stitch claim, one for every backend (each reads the
 * row under its own lock, asks this, then writes): a written output is done,
 * a live holder keeps it, anything else is taken over with the next epoch.
 */
import type { StitchRow } from './interfaces.ts';
import { ownerAlive } from './owner.ts';

export type StitchDecision = 'written' | 'held' | 'take';

export function decideStitchClaim(row: Pick<StitchRow, 'status' | 'owner' | 'lease_until'>, now: number): StitchDecision {
  if (row.status === 'written') return 'written';
  // This store's own live claim is held too: one stitch per claim (a second would write under the same token).
  if (row.owner !== null && ownerAlive(row.owner, row.lease_until ?? 0, now)) return 'held';
  return 'take';
}
