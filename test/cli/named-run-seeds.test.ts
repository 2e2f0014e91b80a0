/**
 * `seed: random` in a named run (issue 13): two machines started at once on
 * one PostgreSQL and one bucket each draw seeds, but the run keeps the first
 * one's, so both plan the same keys and each key is paid once. A rerun under
 * the name reuses those seeds (all cached); a changed manifest is refused as
 * any other by the join rules; without `--run` every run draws afresh.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { startMachine } from '../helpers/machine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const pg = usePostgres();
const s3 = useS3();
const SHOW = `version: 1
defaults: { image: two-people.png, prompt: two people talking }
episodes:
  - id: ep1
    scenes:
      - { id: a, left: tone-1s.wav, right: tone-2500ms.wav, seed: random }
      - { id: b, left: tone-1s.wav, right: tone-2500ms.wav, seed: 7 }
  - id: ep2
    scenes:
      - { id: c, left: tone-1s.wav, right: tone-2500ms.wav, seed: random }
`;

const { fakes, children } = useProcesses();

async function storedSeeds(url: string): Promise<Record<string, number>> {
  const server = connect(url);
  try {
    const [run] = await server.sql.rows<{ seeds_json: string }>("SELECT seeds_json FROM runs WHERE name = 'night'");
    return JSON.parse(run.seeds_json) as Record<string, number>;
  } finally {
    await server.pool.end();
  }
}

describe('seed: random in a named run', () => {
  it('two machines at once plan the seeds the run’s first worker drew: each key paid once; a rerun reuses them, a changed manifest is refused, no --run draws afresh', { timeout: 90_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    const fake = await startFake({ msPerVideoSecond: 100, maxConcurrent: 6 });
    fakes.push(fake);
    const store = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: store, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/seeds` };
    const night = (host: string) => startMachine(host, manifest, env, ['--run', 'night', '--budget', '1'], children);

    const machines = [night('machine-a'), night('machine-b')];
    const codes = await Promise.all(machines.map((m) => m.exit));
    for (const [i, m] of machines.entries()) expect(codes[i], m.stderr()).toBe(0);
    const seeds = await storedSeeds(store);
    expect(Object.keys(seeds).sort()).toEqual(['ep1/a', 'ep2/c']);
    // Three keys (the two random scenes on the run's seeds, the fixed one), each submitted once between the machines.
    const sent = fake.submissions.map((s) => s.body.seed as number).sort((a, b) => a - b);
    expect(sent).toEqual([7, seeds['ep1/a'], seeds['ep2/c']].sort((a, b) => a - b));
    expect(machines.reduce((n, m) => n + m.summary().rendered, 0)).toBe(3);

    // The next night under the same name: the run's seeds again, so every scene is a hit.
    const rerun = night('machine-c');
    expect(await rerun.exit, rerun.stderr()).toBe(0);
    expect(rerun.summary()).toMatchObject({ rendered: 0, cached: 3 });
    expect(fake.submissions).toHaveLength(3);

    // A changed manifest under the same name plans other scenes: refused before any spend, as the join rules say.
    writeFileSync(manifest, SHOW.replace('seed: 7', 'seed: 8'));
    const changed = night('machine-d');
    expect(await changed.exit).toBe(2);
    expect(changed.stderr()).toMatch(/plan other scenes than the run it joins/);
    expect(fake.submissions).toHaveLength(3);

    // Without --run each run is its own and draws its random seeds afresh (unchanged behaviour).
    writeFileSync(manifest, SHOW);
    const own = startMachine('machine-e', manifest, env, [], children);
    expect(await own.exit, own.stderr()).toBe(0);
    expect(own.summary()).toMatchObject({ rendered: 2, cached: 1 });
    expect(fake.submissions).toHaveLength(5);
  });
});
