/** A plan scheduled on a cache as `render` would, with a fresh owner and run: what the provider benches time. */
import path from 'node:path';
import type { Db } from '../../pipeline/cache/db.ts';
import { newOwnerId } from '../../pipeline/cache/owner.ts';
import { RenderStore } from '../../pipeline/cache/renders.ts';
import { RunLedger } from '../../pipeline/cache/runs.ts';
import { RunEvents } from '../../pipeline/events.ts';
import type { Plan } from '../../pipeline/plan.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { schedule } from '../../pipeline/schedule.ts';

export function scheduleOnCache(o: { db: Db; cacheDir: string; plan: Plan; provider: Provider; concurrency: number; events?: RunEvents }) {
  const ledger = new RunLedger(o.db);
  return schedule({
    plan: o.plan,
    provider: o.provider,
    store: new RenderStore(o.db, newOwnerId()),
    ledger,
    runId: ledger.start({ provider: 'wavespeed', args: [], plannedUsd: o.plan.totals.costUsd }),
    events: o.events ?? new RunEvents(),
    clipsDir: path.join(o.cacheDir, 'clips'),
    concurrency: o.concurrency,
  });
}
