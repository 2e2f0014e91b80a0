/** A plan scheduled on a cache as `render` would, with a fresh run: what the provider benches time. */
import path from 'node:path';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { RunEvents } from '../../pipeline/events.ts';
import type { Plan } from '../../pipeline/plan/index.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { schedule } from '../../pipeline/schedule/index.ts';

/** `store`: opened for this run (its claims carry a fresh owner). */
export async function scheduleOnCache(o: { store: Store; cacheDir: string; plan: Plan; provider: Provider; concurrency: number; events?: RunEvents }) {
  return schedule({
    plan: o.plan,
    provider: o.provider,
    store: o.store,
    runId: await o.store.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: o.plan.totals.costUsd }),
    events: o.events ?? new RunEvents(),
    clipsDir: path.join(o.cacheDir, 'clips'),
    concurrency: o.concurrency,
  });
}
