/**
 * `duologue status` workers and lapsed claims, on both backends: a worker
 * whose heartbeat (the lease renewal) keeps beating is live, one that stopped
 * (paused, partitioned, killed) is lapsed after its lease, a finished run is
 * finished; its claims are listed as lapsed, a live worker's are not.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimRequest, Store, StoreOptions } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { toWorker } from '../../pipeline/cache/workers.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { INPUTS } from './contract.ts';

const pg = usePostgres();
const LEASE = 30_000;
const req = (key: string): ClaimRequest => ({ key, inputs: INPUTS, episodeId: 'e', sceneId: key, estimateUsd: 0.15 });
const CLIP = { path: '/c/k.mp4', sha256: 'sha', bytes: 100, videoSeconds: 2.5, billedSeconds: 5, costUsd: 0.15 };

const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const backends: [string, () => Promise<Omit<StoreOptions, 'owner' | 'now' | 'leaseMs'>>][] = [
  ['sqlite', async () => ({ dir: mkdtempSync(path.join(tmpdir(), 'dl-workers-')) })],
  ['postgres', async () => ({ url: await pg.fresh(), dir: mkdtempSync(path.join(tmpdir(), 'dl-workers-pg-')) })],
];

describe.each(backends)('workers and lapsed claims: %s', (_name, state) => {
  it('live while the heartbeat beats, lapsed once it stops past the lease, finished when the run ends; the lapsed worker’s claims are listed', async () => {
    const base = await state();
    const clock = { now: 5_000_000 };
    // One state, three machines: for Postgres each with a cache dir of its own, for SQLite three stores on one file.
    const open = async (owner: string) => {
      const dir = base.url ? mkdtempSync(path.join(tmpdir(), 'dl-workers-m-')) : base.dir;
      const s = await openStore({ ...base, dir, owner, now: () => clock.now, leaseMs: LEASE });
      opened.push(s);
      return s;
    };
    const beating = await open('host-a:101:1:a');
    const stopped = await open('host-b:202:1:b');
    const done = await open('host-c:303:1:c');

    const runA = await beating.ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0.3 });
    const runB = await stopped.ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0.3 });
    const runC = await done.ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0 });
    await beating.renders.claim(req('a1'));
    await beating.renders.markComplete('a1', CLIP);
    await beating.ledger.scene(runA, { episodeId: 'e', sceneId: 'a1', key: 'a1', outcome: 'rendered', costUsd: 0.15 });
    await beating.ledger.scene(runA, { episodeId: 'e', sceneId: 'x', key: 'x', outcome: 'cached' });
    await beating.ledger.scene(runA, { episodeId: 'e', sceneId: 'y', key: 'y', outcome: 'failed' });
    await beating.renders.claim(req('a2'));
    await stopped.renders.claim(req('b1'));
    await stopped.renders.markSubmitting('b1');
    await stopped.renders.markInFlight('b1', 'pred-b1');
    await done.ledger.finish(runC, 'complete');

    clock.now += LEASE / 2;
    await beating.renders.renew();
    clock.now += LEASE / 2 + 1_000; // b's lease and heartbeat lapse; a beat halfway through
    const heartbeatA = clock.now - LEASE / 2 - 1_000;
    expect(await beating.admin.workers(10)).toEqual([
      { runId: runC, runName: null, owner: done.renders.owner, host: 'host-c', pid: process.pid, lastHeartbeat: 5_000_000, scenesDone: 0, claimed: 0, inFlight: 0, state: 'finished' },
      { runId: runB, runName: null, owner: stopped.renders.owner, host: 'host-b', pid: process.pid, lastHeartbeat: 5_000_000, scenesDone: 0, claimed: 1, inFlight: 1, state: 'lapsed' },
      { runId: runA, runName: null, owner: beating.renders.owner, host: 'host-a', pid: process.pid, lastHeartbeat: heartbeatA, scenesDone: 2, claimed: 1, inFlight: 0, state: 'live' },
    ]);
    expect((await done.admin.lapsedClaims()).map((r) => ({ key: r.key, owner: r.owner, status: r.status, prediction_id: r.prediction_id }))).toEqual([
      { key: 'b1', owner: stopped.renders.owner, status: 'in-flight', prediction_id: 'pred-b1' },
    ]);
    // Taken over (a new epoch): no longer lapsed; the new holder's heartbeat keeps it so.
    expect(await beating.renders.claim(req('b1'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 2 } });
    expect(await done.admin.lapsedClaims()).toEqual([]);
    expect((await done.admin.workers(1)).map((w) => w.runId)).toEqual([runC]);
  });
});

describe('toWorker', () => {
  const row = { run_id: 7, run_name: 'nightly', owner: 'ci-runner-3:4242:99:abcd', pid: 4242, started_at: 1_000, finished_at: null, heartbeat_at: 11_000, lease_ms: 30_000, scenes_done: 4, claimed: 2, in_flight: 1 };
  it('live through the end of its lease, lapsed after; a run without a heartbeat counts from its start', () => {
    expect(toWorker(row, 41_000)).toEqual({ runId: 7, runName: 'nightly', owner: 'ci-runner-3:4242:99:abcd', host: 'ci-runner-3', pid: 4242, lastHeartbeat: 11_000, scenesDone: 4, claimed: 2, inFlight: 1, state: 'live' });
    expect(toWorker(row, 41_001).state).toBe('lapsed');
    expect(toWorker({ ...row, heartbeat_at: null }, 31_000).state).toBe('live');
    expect(toWorker({ ...row, heartbeat_at: null }, 31_001).state).toBe('lapsed');
    expect(toWorker({ ...row, finished_at: 50_000 }, 99_000).state).toBe('finished');
  });
});
