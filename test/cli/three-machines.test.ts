/**
 * Three machines, one night: three `duologue render` processes, each with a
 * cache dir of its own and a host name of its own, share one PostgreSQL (state)
 * and one S3 bucket (clips) and join one run (`--run night`) under one cap,
 * against one fake WaveSpeed. What the fake saw is the proof: one submit per
 * cache key, billed total within the cap; the store agrees; the episodes are
 * the bytes one machine alone writes. Then a cap smaller than the work, and a
 * worker killed with SIGKILL while its predictions process.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { aloneEpisodes, startMachine } from '../helpers/machine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const pg = usePostgres();
const s3 = useS3();
const scene = (id: string, seed: number) => `      - { id: ${id}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${seed} }\n`;
// Three episodes of two $0.15 scenes: $0.90 of work, six cache keys.
const SHOW = `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n${[1, 2, 3].map((e) => `  - id: ep${e}\n    scenes:\n${scene('a', e * 10 + 1)}${scene('b', e * 10 + 2)}`).join('')}`;
const SEEDS = [11, 12, 21, 22, 31, 32];
const HOSTS = ['machine-a', 'machine-b', 'machine-c'];

const { fakes, children } = useProcesses();

/** A fake whose predictions take ~0.35 s (100 ms per video second): long enough that the workers overlap. */
async function fake(): Promise<FakeWavespeed> {
  const f = await startFake({ msPerVideoSecond: 100, maxConcurrent: 6 });
  fakes.push(f);
  return f;
}

async function sharedEnv(f: FakeWavespeed, prefix: string) {
  const store = await pg.fresh();
  return { store, env: { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: store, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/${prefix}` } };
}

/** Rows of the shared store, read the way an operator would (another connection). */
async function query<T>(url: string, text: string): Promise<T[]> {
  const server = connect(url);
  try {
    return await server.sql.rows<T>(text);
  } finally {
    await server.pool.end();
  }
}

/** Each seed the fake was asked to render, sorted (a seed is a cache key here). */
const seedsOf = (f: FakeWavespeed) => f.submissions.map((s) => s.body.seed as number).sort((a, b) => a - b);

/** The run's money in the store: spent and still held, and its cap. */
async function runMoney(url: string) {
  const [run] = await query<{ id: string; spent_usd: number; budget_usd: number }>(url, "SELECT id, spent_usd, budget_usd FROM runs WHERE name = 'night'");
  const holds = await query<{ state: string; usd: number }>(url, `SELECT state, sum(usd) AS usd FROM run_holds WHERE run_id = ${Number(run.id)} GROUP BY state`);
  const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 10_000) / 10_000;
  return { cap: run.budget_usd, spent: of('spent'), held: of('held'), ledger: run.spent_usd, runs: (await query(url, 'SELECT id FROM runs')).length };
}

/** The most the store's holds (spent + held) added up to while `until` was pending, sampled every 20 ms. */
async function sampleHolds(url: string, until: Promise<unknown>): Promise<number> {
  const server = connect(url);
  let done = false;
  void until.then(() => (done = true));
  let peak = 0;
  try {
    while (!done) {
      const rows = await server.sql.rows<{ usd: number | null }>('SELECT sum(usd) AS usd FROM run_holds').catch(() => [{ usd: null }]); // the table appears with the first worker
      peak = Math.max(peak, rows[0]?.usd ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await server.pool.end();
  }
  return Math.round(peak * 10_000) / 10_000;
}

describe('three machines on one store, one bucket, one run', () => {
  it('every key submitted once, the cap never passed, episodes byte-identical to one machine alone', { timeout: 90_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    const reference = await aloneEpisodes(manifest, (await fake()).apiUrl);
    const f = await fake();
    const { store, env } = await sharedEnv(f, 'three');
    const machines = HOSTS.map((h) => startMachine(h, manifest, env, ['--run', 'night', '--budget', '1'], children));
    const codes = await Promise.all(machines.map((m) => m.exit));
    for (const [i, m] of machines.entries()) expect(codes[i], m.stderr()).toBe(0);

    expect(seedsOf(f)).toEqual(SEEDS);
    expect(f.chargedUsd).toBe(0.9);
    const money = await runMoney(store);
    expect(money).toEqual({ cap: 1, spent: 0.9, held: 0, ledger: 0.9, runs: 1 });
    // Between them the machines rendered each scene once; the rest each found cached (another's clip).
    const summaries = machines.map((m) => m.summary());
    expect(summaries.reduce((n, s) => n + s.rendered, 0)).toBe(6);
    expect(summaries.reduce((n, s) => n + s.cost_usd, 0)).toBeCloseTo(0.9, 6);
    // Every machine that wrote an episode wrote the reference's bytes.
    let written = 0;
    for (const s of summaries)
      for (const e of s.episodes) {
        expect(e.status).toBe('complete');
        if (!e.output) continue;
        written++;
        expect(readFileSync(e.output).equals(reference.get(e.id)!), `${e.id} from ${e.output}`).toBe(true);
      }
    expect(written).toBeGreaterThanOrEqual(3);
  });

  it('a cap smaller than the work: together the machines spend within it, each key at most once, the rest held for budget', { timeout: 90_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    const f = await fake();
    const { store, env } = await sharedEnv(f, 'small-cap');
    const CAP = 0.65; // four $0.15 scenes fit, five do not
    const machines = HOSTS.map((h) => startMachine(h, manifest, env, ['--run', 'night', '--budget', String(CAP)], children));
    // Spent + held, sampled from another connection while the machines run: never above the cap, not only at the end.
    const peak = sampleHolds(store, Promise.all(machines.map((m) => m.exit)));
    const codes = await Promise.all(machines.map((m) => m.exit));
    const most = await peak;
    expect(most).toBeLessThanOrEqual(CAP);
    expect(most).toBeGreaterThanOrEqual(0.6); // the sampler saw the run's money (it is not vacuous)
    // Some scene of the run was held back, so no machine can say every episode is complete.
    for (const [i, m] of machines.entries()) expect(codes[i], m.stderr()).toBe(1);

    const seeds = seedsOf(f);
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(seeds).toHaveLength(4);
    expect(f.chargedUsd).toBe(0.6);
    const money = await runMoney(store);
    expect(money).toEqual({ cap: CAP, spent: 0.6, held: 0, ledger: 0.6, runs: 1 });
    expect(money.spent + money.held).toBeLessThanOrEqual(CAP);
    const skipped = await query<{ n: string }>(store, "SELECT count(DISTINCT key) AS n FROM run_scenes WHERE outcome = 'skipped' AND error = 'over budget'");
    expect(Number(skipped[0].n)).toBe(2);
  });

  it('kill -9 of a worker while its predictions process: the others take its claims over after its lease and collect them, paying nothing twice', { timeout: 90_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    const f = await fake();
    f.hold(); // every prediction stays processing until the victim is dead
    const { store, env } = await sharedEnv(f, 'kill');
    const machines = HOSTS.map((h) => startMachine(h, manifest, env, ['--run', 'night', '--budget', '1'], children));
    await until(() => f.submissions.length === 6 || machines.some((m) => m.child.exitCode !== null), 'the machines to submit the six scenes', 60_000);
    const before = await query<{ key: string; owner: string; prediction_id: string; claim_epoch: number }>(store, "SELECT key, owner, prediction_id, claim_epoch FROM renders WHERE status = 'in-flight' ORDER BY key");
    expect(before).toHaveLength(6);
    // The victim: a machine holding at least one claim.
    const victimHost = before[0].owner.split(':')[0];
    const victim = machines.find((m) => m.host === victimHost)!;
    const its = before.filter((r) => r.owner.startsWith(`${victimHost}:`));
    victim.child.kill('SIGKILL');
    await victim.exit;
    f.release();

    const survivors = machines.filter((m) => m !== victim);
    const codes = await Promise.all(survivors.map((m) => m.exit));
    for (const [i, m] of survivors.entries()) expect(codes[i], m.stderr()).toBe(0);
    // One submit per key over all three machines: the victim's predictions were resumed, not paid again.
    expect(seedsOf(f)).toEqual(SEEDS);
    expect(f.chargedUsd).toBe(0.9);
    const after = await query<{ key: string; status: string; owner: string; prediction_id: string; claim_epoch: number }>(store, 'SELECT key, status, owner, prediction_id, claim_epoch FROM renders ORDER BY key');
    expect(after.map((r) => r.status)).toEqual(Array(6).fill('complete'));
    for (const mine of its) {
      const row = after.find((r) => r.key === mine.key)!;
      // Taken over at a higher epoch (a complete row has no owner left), with the victim's prediction, which a survivor resumed.
      expect(row.claim_epoch).toBeGreaterThan(mine.claim_epoch);
      expect(row.prediction_id).toBe(mine.prediction_id);
      expect(survivors.map((m) => m.stderr()).join('')).toContain(`(prediction ${mine.prediction_id})`);
    }
    // The run's money: the victim's holds were never given back (its predictions were submitted, so the
    // money was gone) and are spent once collected; the ledger keeps its charges: the night cost what the
    // fake billed, not what the survivors paid.
    expect(await runMoney(store)).toEqual({ cap: 1, spent: 0.9, held: 0, ledger: 0.9, runs: 1 });
  });
});
