/**
 * Attack (issue 13), the confusing side of named runs (`--run`):
 *
 * 1. README "Scaling out" gave a CI matrix where each runner renders its own
 *    `--episode`, and then said: to give the whole night one cap, start every
 *    runner with the same `--run NAME` and the same `--budget`. Done as
 *    written, every runner but the first is refused ("plans other scenes than
 *    the run it joins"): the plan fingerprint covers the `--episode`
 *    selection. The refusal protects money (runners admitting different
 *    episodes each against the whole cap could together start episodes the
 *    cap cannot finish), so the README was fixed instead: one named run's
 *    runners take the same episodes. The test pins the refusal.
 *
 * 2. `duologue status` is meant to show the workers of recent runs (host,
 *    pid, heartbeat). A named run's row is made by joinRun without an owner,
 *    heartbeat or lease, and the workers query only lists runs with an
 *    owner: the workers of a named run -- the multi-machine case -- are never
 *    listed. Suggested fix: a `run_workers` row per joining worker (run id,
 *    owner, heartbeat, lease) that renew() beats and finish() closes; the
 *    run's own finished_at set only when its last worker finishes.
 *
 * 3. A manifest with a `seed: random` scene: each worker draws its own seed
 *    at plan time, so its plan fingerprint differs and no second worker can
 *    ever join the run. Suggested fix: the first worker records the drawn
 *    seeds with the run (joinRun), joiners plan with them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const TWO_EPISODES = `version: 1
defaults: { image: two-people.png, prompt: two people talking }
episodes:
  - id: ep1
    scenes:
      - { id: a, left: tone-1s.wav, right: tone-2500ms.wav, seed: 1 }
  - id: ep2
    scenes:
      - { id: b, left: tone-1s.wav, right: tone-2500ms.wav, seed: 2 }
`;

describe('attack: named runs, what the user is told', () => {
  it('runners of one --run with different --episode selections: the second is refused before any spend, saying why (the README said they could join)', { timeout: 60_000 }, async () => {
    const { manifest } = tinyProject(TWO_EPISODES);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-recipe-'));
    const runner = (episode: string) =>
      runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--no-report', '--json', '--episode', episode, '--run', 'nightly-recipe', '--budget', '40']);
    const first = await runner('ep1');
    expect(first.code, first.stderr).toBe(0);
    const second = await runner('ep2');
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/plan other scenes than the run it joins .*--episode selection/);
  });

  it('duologue status lists the live worker of a named run, with its claims in flight', { timeout: 60_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.hold();
    const { manifest } = tinyProject();
    const store = await pg.fresh();
    const clips = `s3://${BUCKET}/visible`;
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', ...s3.env(), DUOLOGUE_STORE: store, DUOLOGUE_CLIPS: clips };
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-visible-'));
    const rendering = runCli(['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--no-report', '--json', '--run', 'nightly-visible', '--budget', '5'], env);
    try {
      await until(() => fake.submissions.length === 3, 'the worker to submit');
      const status = await runCli(['status', '--json', '--cache-dir', path.join(dir, 'status-cache')], env);
      expect(status.code, status.stderr).toBe(0);
      const workers = (JSON.parse(status.stdout) as { workers: { state: string; run_name: string; in_flight: number; scenes_done: number }[] }).workers;
      expect(workers.filter((w) => w.state === 'live')).toEqual([expect.objectContaining({ run_name: 'nightly-visible', in_flight: 3, scenes_done: 0 })]);
    } finally {
      fake.release();
      await rendering;
    }
  });
  it('a manifest with a seed: random scene can be rendered by two workers of one run: the second plans with the seed the first drew', { timeout: 60_000 }, async () => {
    const { manifest } = tinyProject(TWO_EPISODES.replace('seed: 2 }', 'seed: random }'));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-random-'));
    const worker = () => runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--no-report', '--json', '--run', 'nightly-random', '--budget', '40']);
    const first = await worker();
    expect(first.code, first.stderr).toBe(0);
    const second = await worker();
    expect(second.code, second.stderr).toBe(0);
    // The same keys: the first worker's seed, so the second finds both scenes rendered.
    expect(JSON.parse(second.stdout.trim().split('\n').at(-1)!)).toMatchObject({ rendered: 0, cached: 2 });
  });
});
