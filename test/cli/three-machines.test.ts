/**
 * Three machines, one night: three `duologue render` processes, each with a
 * cache dir of its own and a host name of its own, share one PostgreSQL (state)
 * and one S3 bucket (clips) and join one run (`--run night`) under one cap,
 * against one fake WaveSpeed. What the fake saw is the proof: one submit per
 * cache key, billed total within the cap; the store agrees; the episodes are
 * the bytes one machine alone writes. Then a cap smaller than the work, and a
 * worker killed with SIGKILL while its predictions process.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { startMachine, type Machine } from '../helpers/machine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const scene = (id: string, seed: number) => `      - { id: ${id}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${seed} }\n`;
// Three episodes of two $0.15 scenes: $0.90 of work, six cache keys.
const SHOW = `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n${[1, 2, 3].map((e) => `  - id: ep${e}\n    scenes:\n${scene('a', e * 10 + 1)}${scene('b', e * 10 + 2)}`).join('')}`;
const SEEDS = [11, 12, 21, 22, 31, 32];
const HOSTS = ['machine-a', 'machine-b', 'machine-c'];

const fakes: FakeWavespeed[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

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
  const of = (state: string) => holds.find((h) => h.state === state)?.usd ?? 0;
  return { cap: run.budget_usd, spent: of('spent'), held: of('held'), ledger: run.spent_usd, runs: (await query(url, 'SELECT id FROM runs')).length };
}

/** The same manifest on one machine alone (SQLite, clips in its cache dir): the reference bytes. */
async function singleMachine(manifest: string): Promise<Map<string, Buffer>> {
  const f = await fake();
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-alone-'));
  const run = await runCli(['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report'], {
    WAVESPEED_API_KEY: KEY,
    WAVESPEED_BASE_URL: f.apiUrl,
    DUOLOGUE_TIME_SCALE: '0.05',
  });
  expect(run.code, run.stderr).toBe(0);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { episodes: { id: string; output: string }[] };
  return new Map(summary.episodes.map((e) => [e.id, readFileSync(e.output)]));
}

describe('three machines on one store, one bucket, one run', () => {
  it('every key submitted once, the cap never passed, episodes byte-identical to one machine alone', { timeout: 90_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    const reference = await singleMachine(manifest);
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
});
