/**
 * Attack (issue 13): `duologue status` on a machine whose clock runs hours
 * ahead, while a worker of a named run beats. Heartbeats are on the store's
 * clock; read against this machine's, the live worker's last heartbeat was
 * shown as hours ago (next to the state "live"), which sends a person to
 * take over work that is being done.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();
const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const skewClock = path.join(import.meta.dirname, '../helpers/skew-clock.mjs');

const MANIFEST = `version: 1
defaults: { image: two-people.png, prompt: status skew }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 101 }
`;

describe('attack: duologue status on a machine whose clock runs hours ahead', () => {
  it("shows a live worker's last heartbeat as seconds ago, not hours", { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 4000 });
    fakes.push(fake);
    const { manifest, dir } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/status` };
    const w = worker('machine-busy', manifest, env, ['--run', 'status-skew']);
    await until(() => fake.submissions.length === 1, 'the worker submitted');
    const status = spawnSync(process.execPath, [bin, 'status', '--cache-dir', path.join(dir, 'cache')], {
      env: { ...process.env, ...env, NODE_OPTIONS: `--import=${skewClock}`, DUOLOGUE_TEST_CLOCK_SKEW_MS: String(3 * 3_600_000) },
      encoding: 'utf8',
    });
    w.child.kill('SIGKILL');
    expect(status.status, status.stderr).toBe(0);
    const row = status.stdout.split('\n').find((l) => l.includes('machine-busy') && l.includes('live'));
    expect(row, status.stdout).toBeDefined();
    const seconds = Number(/(\d+) s ago/.exec(row!)?.[1]);
    expect(seconds, row).toBeLessThan(600);
  });
});
