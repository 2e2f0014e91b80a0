/**
 * The shared servers going away mid-run (issue 13): two machines render on one
 * PostgreSQL and one S3 bucket while their predictions process; then
 * PostgreSQL (or s3rver) is stopped. Each worker stops with a clear `E_STORE`
 * (exit 1, the CLI's code for a run stopped short) instead of hanging or
 * paying again; the server comes back, and the next run resumes the
 * predictions in flight: one submit per key over both runs, and every clip
 * the store counts is in the bucket whole (a fresh machine verifies them all).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { startMachine } from '../helpers/machine.ts';
import { PASSWORD, usePostgres } from '../helpers/postgres.ts';
import { BUCKET, S3_SECRET } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const pg = usePostgres();
const scene = (id: string, seed: number) => `      - { id: ${id}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${seed} }\n`;
// Two episodes of two scenes: four cache keys.
const SHOW = `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n${[1, 2].map((e) => `  - id: ep${e}\n    scenes:\n${scene('a', e * 10 + 1)}${scene('b', e * 10 + 2)}`).join('')}`;
const SEEDS = [11, 12, 21, 22];

/** s3rver that can be stopped and started again on the same port and folder (its objects kept). */
const s3 = (() => {
  const directory = mkdtempSync(path.join(tmpdir(), 's3rver-outage-'));
  let server: S3rver | undefined;
  let port = 0;
  const start = async () => {
    server = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: BUCKET, configs: [] }] });
    port = (await server.run()).port;
  };
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  beforeAll(start);
  afterAll(stop);
  return {
    start,
    stop,
    env: () => ({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: S3_SECRET, AWS_REGION: 'us-east-1' }),
  };
})();

const { fakes, children } = useProcesses();

/** Two machines render SHOW with every prediction held processing; resolves once all four are submitted. */
async function midRun(prefix: string) {
  const fake = await startFake({ msPerVideoSecond: 20, maxConcurrent: 4 });
  fakes.push(fake);
  fake.hold();
  const { manifest } = tinyProject(SHOW);
  const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: await pg.fresh(), ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/${prefix}` };
  const machines = ['machine-a', 'machine-b'].map((h) => startMachine(h, manifest, env, ['--run', prefix, '--budget', '1'], children));
  await until(() => fake.submissions.length === 4 || machines.some((m) => m.child.exitCode !== null), 'the machines to submit the four scenes', 60_000);
  expect(fake.submissions).toHaveLength(4);
  return { fake, manifest, env, machines };
}

/** What the store counts complete after the outage is exactly what a fresh machine finds whole in the bucket. */
async function nothingHalfWritten(env: NodeJS.ProcessEnv) {
  const server = connect(env.DUOLOGUE_STORE!);
  let complete: number;
  try {
    complete = (await server.sql.rows("SELECT key FROM renders WHERE status = 'complete'")).length;
  } finally {
    await server.pool.end();
  }
  const verify = await runCli(['cache', 'verify', '--cache-dir', path.join(mkdtempSync(path.join(tmpdir(), 'dl-verify-')), 'cache')], env);
  expect(verify.stdout, verify.stderr).toContain(`verified ${complete} clips: ${complete} ok, 0 damaged`);
}

/** After the outage: a machine run again finishes the night, paying for nothing already submitted; a fresh machine verifies every clip. */
async function resumes(fake: FakeWavespeed, manifest: string, env: NodeJS.ProcessEnv, run: string) {
  const again = startMachine('machine-c', manifest, env, ['--run', run, '--budget', '1'], children);
  expect(await again.exit, again.stderr()).toBe(0);
  expect(again.summary()).toMatchObject({ failed: 0 });
  expect(fake.submissions.map((s) => s.body.seed as number).sort((a, b) => a - b)).toEqual(SEEDS);
  await nothingHalfWritten(env);
}

describe('a shared server restarted mid-run', () => {
  it('PostgreSQL stopped while predictions process: each worker stops with E_STORE; restarted, the next run resumes them without paying again', { timeout: 90_000 }, async () => {
    const { fake, manifest, env, machines } = await midRun('pg-outage');
    await pg.stop();
    try {
      const codes = await Promise.all(machines.map((m) => m.exit));
      for (const [i, m] of machines.entries()) {
        expect(codes[i], m.stderr()).toBe(1);
        expect(m.stderr()).toMatch(/error \[E_STORE\]: the cache database at postgres:\/\/127\.0\.0\.1:\d+\/duologue cannot be reached/);
        expect(m.stderr()).not.toContain(PASSWORD);
      }
      expect(fake.submissions).toHaveLength(4);
    } finally {
      await pg.start();
    }
    await nothingHalfWritten(env);
    fake.release();
    await resumes(fake, manifest, env, 'pg-outage');
  });

  it('s3rver stopped while predictions process: no clip counts unless uploaded whole, each worker stops with E_STORE; restarted, the next run collects them without paying again', { timeout: 90_000 }, async () => {
    const { fake, manifest, env, machines } = await midRun('s3-outage');
    await s3.stop();
    try {
      fake.release(); // the clips come down, and their uploads find no bucket
      const codes = await Promise.all(machines.map((m) => m.exit));
      for (const [i, m] of machines.entries()) {
        expect(codes[i], m.stderr()).toBe(1);
        expect(m.stderr()).toMatch(/error \[E_STORE\]: .*s3:\/\/duologue-clips\/s3-outage\/clips\/.*prediction pred-\d+ is kept and the next run collects its clip at no charge/);
        expect(m.stderr()).not.toContain(S3_SECRET);
      }
      expect(fake.submissions).toHaveLength(4);
    } finally {
      await s3.start();
    }
    await nothingHalfWritten(env);
    await resumes(fake, manifest, env, 's3-outage');
  });
});
