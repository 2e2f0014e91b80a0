/**
 * `duologue status` sorts every open render into the one place a person
 * looks for it: a submit that may have been billed without an answer (an
 * ambiguous one, or one whose run died mid-submit) needs attention; one a
 * live run is submitting, or an id the next run resumes, is in flight; a key
 * paid twice without a usable clip is held. `--json` says the same to scripts.
 */
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CacheKeyInput } from '../../pipeline/plan/key.ts';
import { newOwnerId } from '../../pipeline/cache/owner.ts';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { runCli } from '../helpers/cli.ts';

const DEAD_PID = 999_999_999; // above any pid_max: never a live process
const CLIP = { path: '/c/k.mp4', sha256: 's', bytes: 1, videoSeconds: 2.5, billedSeconds: 5, costUsd: 0.15 };

/** A cache with one render in each state status knows, and three runs: finished, died, running. */
async function cacheWithEveryState() {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-status-'));
  const req = (scene: string, seed: number) => ({
    key: `${scene}`.padEnd(64, '0'),
    inputs: { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: '', order: 'meanwhile', resolution: '480p', seed } as CacheKeyInput,
    episodeId: 'ep1',
    sceneId: scene,
    estimateUsd: 0.15,
  });
  // One clock for all writers, a millisecond a step: status lists by last change, in this order.
  let t = Date.now();
  const clock = () => ++t;
  const stores = [
    await openStore({ dir: cacheDir, owner: newOwnerId(), now: clock }),
    await openStore({ dir: cacheDir, owner: `${hostname()}:${DEAD_PID}::dead`, now: clock }),
    await openStore({ dir: cacheDir, owner: newOwnerId(), now: clock }), // this process: alive
  ];
  const [mine, dead, live] = stores.map((s) => s.renders);

  await mine.claim(req('a1', 11)); // the answer was lost, the list could not tell
  await mine.markSubmitting(req('a1', 11).key);
  await mine.markFailed(req('a1', 11).key, 'connection reset mid-submit', { status: 'ambiguous' });
  await dead.claim(req('b2', 12)); // its run was killed inside the submit request
  await dead.markSubmitting(req('b2', 12).key);
  await live.claim(req('c3', 13)); // a live run is submitting it right now
  await live.markSubmitting(req('c3', 13).key);
  await mine.claim(req('d4', 14)); // submitted; the next run resumes it
  await mine.markInFlight(req('d4', 14).key, 'pred-9');
  await mine.release(req('d4', 14).key);
  for (let i = 0; i < 2; i++) {
    await mine.claim(req('e5', 15)); // paid twice, refused twice
    await mine.markFailed(req('e5', 15).key, 'the delivered clip lasts 9.00 s', { paid: { deliveredSeconds: 9 } });
  }
  await mine.claim(req('f6', 16));
  await mine.markComplete(req('f6', 16).key, CLIP, 'pred-6');
  await mine.claim(req('g7', 17));
  await mine.markFailed(req('g7', 17).key, 'moderation');

  const ledger = stores[0].ledger;
  const finished = await ledger.start({ provider: 'wavespeed', args: ['render'], budgetUsd: 2, plannedUsd: 0.45 });
  await ledger.finish(finished, 'incomplete', 'ep1 not written: disk full');
  const died = await ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0.3 });
  await ledger.start({ provider: 'local', args: ['render'], plannedUsd: 0 });
  for (const s of stores) await s.close();
  // A run whose process is gone (no interface records another process's pid).
  const db = openDb(cacheDir);
  db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(DEAD_PID, died);
  db.close();
  return { cacheDir, key: (scene: string) => req(scene, 0).key, liveOwner: live.owner };
}

describe('duologue status', () => {
  it('lists what needs attention (ambiguous, or a dead run mid-submit) apart from what is in flight and what is held', async () => {
    const { cacheDir, key, liveOwner } = await cacheWithEveryState();
    const run = await runCli(['status', '--cache-dir', cacheDir]);
    expect(run.code).toBe(0);
    const text = run.stdout;
    expect(text).toMatch(/needs attention: 2 \(a submit may have been billed without an answer\)\. .*duologue cache attach KEY PREDICTION_ID.*render --retry-ambiguous/);
    expect(text).toContain(`  ep1/a1  key ${key('a1').slice(0, 12)}  seed 11: connection reset mid-submit`);
    expect(text).toContain(`  ep1/b2  key ${key('b2').slice(0, 12)}  seed 12: interrupted mid-submit`);
    expect(text).toMatch(/in flight: 2\n/);
    expect(text).toContain(`  ep1/c3  submitting — worked on by ${liveOwner}`);
    expect(text).toContain('  ep1/d4  in-flight (prediction pred-9) — waiting for the next run to resume it');
    expect(text).toMatch(/held: 1 \(paid 2 times without a usable clip; not paid again until `render --retry-held`\)\n {2}ep1\/e5 .*paid 2×: the delivered clip lasts 9\.00 s/);
    for (const quiet of ['ep1/f6', 'ep1/g7']) expect(text).not.toContain(quiet); // complete, or failed with nothing paid: nothing to do
    // Newest run first: running, died (its process is gone), and the finished one with its note.
    expect(text).toMatch(/#3 .* local +running/);
    expect(text).toMatch(/#2 .* wavespeed +died/);
    expect(text).toMatch(/#1 .* wavespeed +incomplete +\$0\.45 +\$0\.00 +\$2\.00/);
    expect(text).toContain('#1: ep1 not written: disk full');
  });

  it('--json: the same four lists, keys in full', async () => {
    const { cacheDir, key, liveOwner } = await cacheWithEveryState();
    const run = await runCli(['status', '--cache-dir', cacheDir, '--json']);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(Object.keys(status).sort()).toEqual(['attention', 'held', 'in_flight', 'lapsed_claims', 'runs', 'workers']);
    expect(status.attention).toEqual([
      { key: key('a1'), episode: 'ep1', scene: 'a1', status: 'ambiguous', error: 'connection reset mid-submit' },
      { key: key('b2'), episode: 'ep1', scene: 'b2', status: 'submitting', error: null },
    ]);
    expect(status.in_flight).toEqual([
      { key: key('c3'), episode: 'ep1', scene: 'c3', status: 'submitting', prediction_id: null, state: `worked on by ${liveOwner}` },
      { key: key('d4'), episode: 'ep1', scene: 'd4', status: 'in-flight', prediction_id: 'pred-9', state: 'waiting for the next run to resume it' },
    ]);
    expect(status.held).toEqual([{ key: key('e5'), episode: 'ep1', scene: 'e5', paid_attempts: 2, error: 'the delivered clip lasts 9.00 s' }]);
    expect(status.runs.map((r: { id: number; result: string | null }) => [r.id, r.result])).toEqual([
      [3, null],
      [2, null],
      [1, 'incomplete'],
    ]);
    expect(status.runs[2]).toMatchObject({ provider: 'wavespeed', budget_usd: 2, planned_usd: 0.45, spent_usd: 0, note: 'ep1 not written: disk full' });
    expect(status.runs[2].started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(status.runs[2].finished_at).toMatch(/Z$/);
    expect(status.runs[0].finished_at).toBeNull();
    expect(status.runs[0].heartbeat_at).toMatch(/Z$/); // each run's worker, its last beat as a date
  });

  it('workers of recent runs, named or not (host, pid, last heartbeat, scenes done, claimed, in flight, live/lapsed/finished) and lapsed claims, in text and --json', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-status-workers-'));
    const LEASE = 30_000;
    let t = Date.now() - 10 * LEASE; // the stopped worker's last beat was long ago
    const clock = () => t;
    const inputs = { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: '', order: 'meanwhile', resolution: '480p', seed: 1 } as CacheKeyInput;
    const req = (scene: string) => ({ key: scene.padEnd(64, '0'), inputs, episodeId: 'ep1', sceneId: scene, estimateUsd: 0.15 });
    // Workers on other hosts: only their heartbeat tells whether they live.
    const stopped = await openStore({ dir: cacheDir, owner: 'ci-runner-2:4242:1:b', now: clock, leaseMs: LEASE });
    const runB = await stopped.ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0.15 });
    await stopped.renders.claim(req('s1'));
    await stopped.renders.markSubmitting(req('s1').key);
    await stopped.renders.markInFlight(req('s1').key, 'pred-s1');
    await stopped.close();
    const stoppedAt = t;
    t = Date.now();
    const beating = await openStore({ dir: cacheDir, owner: 'ci-runner-1:777:1:a', now: clock, leaseMs: LEASE });
    const runA = await beating.ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0.15 });
    await beating.ledger.scene(runA, { episodeId: 'ep1', sceneId: 's2', key: req('s2').key, outcome: 'rendered', costUsd: 0.15 });
    await beating.renders.claim(req('s3'));
    await beating.renders.renew();
    await beating.close();
    // A worker of a named run (`--run nightly`): listed under the run's one row, with its own done scenes.
    const joiner = await openStore({ dir: cacheDir, owner: 'ci-runner-3:888:1:c', now: clock, leaseMs: LEASE });
    const named = await joiner.ledger.joinRun({ name: 'nightly', provider: 'wavespeed', args: ['render'], plannedUsd: 0.3, capJson: '{}', planFingerprint: 'fp' });
    await joiner.ledger.joinWorker(named.id);
    await joiner.ledger.scene(named.id, { episodeId: 'ep1', sceneId: 's4', key: req('s4').key, outcome: 'cached' });
    await joiner.renders.claim(req('s5'));
    await joiner.renders.markSubmitting(req('s5').key);
    await joiner.close();
    // Another worker of it that finished already: its result is the run's, but the run still has a live worker.
    const early = await openStore({ dir: cacheDir, owner: 'ci-runner-4:999:1:d', now: clock, leaseMs: LEASE });
    await early.ledger.joinRun({ name: 'nightly', provider: 'wavespeed', args: ['render'], plannedUsd: 0.3, capJson: '{}', planFingerprint: 'fp' });
    await early.ledger.joinWorker(named.id);
    await early.ledger.finish(named.id, 'complete');
    await early.close();

    const status = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout);
    const beat = new Date(t).toISOString();
    expect(status.runs.find((r: { id: number }) => r.id === named.id)).toMatchObject({ name: 'nightly', result: 'complete', live_workers: 1 });
    expect(status.workers).toEqual([
      { run: named.id, run_name: 'nightly', owner: 'ci-runner-4:999:1:d', host: 'ci-runner-4', pid: process.pid, last_heartbeat: beat, scenes_done: 0, claimed: 0, in_flight: 0, state: 'finished' },
      { run: named.id, run_name: 'nightly', owner: 'ci-runner-3:888:1:c', host: 'ci-runner-3', pid: process.pid, last_heartbeat: beat, scenes_done: 1, claimed: 1, in_flight: 1, state: 'live' },
      { run: runA, run_name: null, owner: 'ci-runner-1:777:1:a', host: 'ci-runner-1', pid: process.pid, last_heartbeat: beat, scenes_done: 1, claimed: 1, in_flight: 0, state: 'live' },
      { run: runB, run_name: null, owner: 'ci-runner-2:4242:1:b', host: 'ci-runner-2', pid: process.pid, last_heartbeat: new Date(stoppedAt).toISOString(), scenes_done: 0, claimed: 1, in_flight: 1, state: 'lapsed' },
    ]);
    const lapsedAt = new Date(stoppedAt + LEASE).toISOString();
    expect(status.lapsed_claims).toEqual([
      { key: req('s1').key, episode: 'ep1', scene: 's1', status: 'in-flight', prediction_id: 'pred-s1', owner: 'ci-runner-2:4242:1:b', lease_until: lapsedAt, lapsed_since: lapsedAt },
    ]);
    const text = (await runCli(['status', '--cache-dir', cacheDir])).stdout;
    expect(text).toMatch(
      new RegExp(
        `workers: 4\n.*\n +#${named.id} nightly +ci-runner-4 +${process.pid} +[0-9]+ s ago +0 +0 +0 +finished\n +#${named.id} nightly +ci-runner-3 +${process.pid} +[0-9]+ s ago +1 +1 +1 +live\n +#${runA} +ci-runner-1 +${process.pid} +[0-9]+ s ago +1 +1 +0 +live\n +#${runB} +ci-runner-2 +${process.pid} +[0-9]+ s ago +0 +1 +1 +lapsed\n`,
      ),
    );
    expect(text).toMatch(new RegExp(`recent runs:\n.*\n +#${named.id} nightly +[0-9-]+ [0-9:]+ +wavespeed +running \\(1 live\\)`)); // the run's row, named, with its live workers
    expect(text).toMatch(/lapsed claims: 1 \(their worker stopped renewing them.*\)\n {2}ep1\/s1 {2}key s10000000000 {2}in-flight \(prediction pred-s1\) — held by ci-runner-2:4242:1:b, lapsed [0-9]+ s ago\n/);
    expect(text).not.toContain('ep1/s3  in-flight'); // a live worker's claim is not lapsed
  });

  it('with nothing open there is no attention section; with no cache at all, empty lists', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-status-empty-'));
    expect(JSON.parse((await runCli(['status', '--cache-dir', path.join(cacheDir, 'none'), '--json'])).stdout)).toEqual({ runs: [], in_flight: [], attention: [], held: [], workers: [], lapsed_claims: [] });
    expect((await runCli(['status', '--cache-dir', path.join(cacheDir, 'none')])).stdout).toMatch(/^no cache at .*none yet: nothing has been rendered\n$/);
    await (await openStore({ dir: cacheDir })).close();
    const text = (await runCli(['status', '--cache-dir', cacheDir])).stdout;
    expect(text).toMatch(/in flight: 0\n/);
    expect(text).not.toMatch(/needs attention|held:/);
  });
});
