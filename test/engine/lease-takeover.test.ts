/**
 * Claims are leases, renewed by a heartbeat that follows the lease's length.
 * When a run's lease does lapse in the middle of its submit (a machine cut
 * off, or a heartbeat slower than the lease, as the test helper's 2 s lease
 * once had), the run that takes the key over owns the row from then on: the
 * late answer still records its prediction id, but the old run writes nothing
 * else over the new owner's row, and the prediction is paid once.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newOwnerId } from '../../pipeline/cache/owner.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { schedule } from '../../pipeline/schedule/index.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { ffmpeg, KEY, until } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

interface RowNow {
  status: string;
  owner: string | null;
  prediction_id: string | null;
  lease_until: number | null;
}

/** The one render row, read as another process would. */
function row(cacheDir: string): RowNow | undefined {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return db.prepare('SELECT status, owner, prediction_id, lease_until FROM renders').get() as RowNow | undefined;
  } finally {
    db.close();
  }
}

/**
 * A run of the scheduler as its own party on the shared cache: its own
 * connection, owner id, lease and heartbeat (a run on another machine).
 */
async function party(manifest: string, cacheDir: string, fake: FakeWavespeed, o: { owner: string; leaseMs: number; heartbeatMs?: number }) {
  const store = await openStore({ dir: cacheDir, owner: o.owner, leaseMs: o.leaseMs });
  const info = PROVIDERS.wavespeed;
  const prepared = await prepare([manifest], { memo: store.files, ffmpeg, prices: info.prices });
  const runId = await store.ledger.start({ provider: 'wavespeed', args: [o.owner], plannedUsd: 0.15 });
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('event', (e) => seen.push(e));
  const stop = new AbortController();
  const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: path.join(cacheDir, 'work'), uploads: store.uploads('wavespeed'), policy: FAST_POLICY });
  const start = () =>
    schedule({ plan: plan({ ...prepared, provider: info }), provider, store, runId, events, clipsDir: path.join(cacheDir, 'clips'), signal: stop.signal, heartbeatMs: o.heartbeatMs, waitPollMs: 20 }).finally(async () => {
      await provider.close?.();
      await store.close();
    });
  return { start, seen, stop, runId, owner: o.owner };
}

describe('leases', () => {
  it('the heartbeat follows the lease length: a 300 ms lease is renewed all through a render (not every 10 s)', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)], { msPerVideoSecond: 600 }); // 1.5 s processing
    const run = startRun(manifest, cacheDir, fake, { leaseMs: 300 });
    let finished = false;
    void run.done.finally(() => (finished = true));
    const leases = new Set<number>();
    await until(() => {
      const r = row(cacheDir);
      if (r?.status === 'in-flight' && r.lease_until !== null) leases.add(r.lease_until);
      return finished;
    }, 'the render to finish');
    expect((await run.done).summary.rendered).toBe(1);
    // Renewed every 100 ms for 1.5 s: about fifteen leases seen; a 10 s heartbeat would show one.
    expect(leases.size).toBeGreaterThanOrEqual(3);
  });

  it('a claim taken over while its submit is open: the late answer records its id, but the old run writes nothing over the new owner; one prediction, paid once', async () => {
    // The submit's answer takes 1.5 s (inside the request's 2 s headers timeout); processing takes 2.5 s more.
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 2)], { msPerVideoSecond: 1_000 });
    fake.script('submit', { kind: 'slow', ms: 1_500 });
    // A: on another machine, its heartbeat (1 h) far slower than its lease (300 ms): the lease lapses mid-submit.
    const a = await party(manifest, cacheDir, fake, { owner: 'host-a:100:1:aaaa', leaseMs: 300, heartbeatMs: 3_600_000 });
    const b = await party(manifest, cacheDir, fake, { owner: newOwnerId(), leaseMs: 30_000 });
    const aDone = a.start();
    await until(() => {
      const r = row(cacheDir);
      return r?.status === 'submitting' && r.lease_until! < Date.now();
    }, "A's lease to lapse mid-submit");
    const bDone = b.start();
    await until(() => row(cacheDir)?.owner === b.owner, 'B to take the key over');
    expect(fake.submissions).toHaveLength(0); // A's request is still open

    // A hears its answer now, records the id, and is stopped right there.
    await until(() => a.seen.some((e) => e.type === 'submitted'), "A's answer");
    a.stop.abort();
    const ra = await aDone;
    const id = fake.submissions[0].id;
    expect(ra.scenes[0]).toMatchObject({ outcome: 'interrupted', costUsd: 0.15 }); // A sent it: A's charge
    expect(row(cacheDir)).toMatchObject({ status: 'in-flight', prediction_id: id, owner: b.owner }); // A's release did not free B's claim

    const rb = await bDone;
    expect(rb.scenes[0]).toMatchObject({ outcome: 'rendered', costUsd: 0, note: expect.stringMatching(new RegExp(`found as prediction ${id}`)) });
    expect(row(cacheDir)).toMatchObject({ status: 'complete', prediction_id: id, owner: null });
    expect(fake.submissions).toHaveLength(1);
    expect([...fake.charges.keys()]).toEqual([id]);
    const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    const spent = db.prepare('SELECT id, spent_usd FROM runs ORDER BY id').all();
    db.close();
    expect(spent).toEqual([
      { id: a.runId, spent_usd: 0.15 },
      { id: b.runId, spent_usd: 0 },
    ]);
  });
});
