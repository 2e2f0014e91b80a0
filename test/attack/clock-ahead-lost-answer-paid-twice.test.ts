/**
 * Attack (issue 13): a worker whose machine clock runs hours ahead sends a
 * submit whose answer is lost (the task is created, the connection cut). The
 * provider's prediction list is filtered by the provider's own clock, but
 * the lookup's window was built from the submit's `at` on the sender's clock:
 * hours later than the task's creation, so no look could find it, and a
 * worker on a well-set machine that took the key over (the submit's end
 * recorded, so "settled") read "absent" and paid for it again.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();
const skewClock = path.join(import.meta.dirname, '../helpers/skew-clock.mjs');

const MANIFEST = `version: 1
defaults: { image: two-people.png, prompt: skew }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 41 }
`;

describe('attack: a worker whose clock is hours ahead loses a submit answer', () => {
  it('the well-set worker that takes the key over finds the task instead of paying again', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 5 });
    fakes.push(fake);
    fake.script('submit', { kind: 'lost-answer' });
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/skew` };
    const run = ['--run', 'skewed', '--budget', '5'];

    const ahead = worker('machine-ahead', manifest, { ...env, NODE_OPTIONS: `--import=${skewClock}`, DUOLOGUE_TEST_CLOCK_SKEW_MS: String(3 * 3_600_000) }, run);
    await ahead.exit;
    expect(fake.submissions.length, ahead.stderr().slice(-2000)).toBe(1);

    const wellSet = worker('machine-well-set', manifest, env, run);
    await wellSet.exit;
    const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
    expect(seeds, wellSet.stderr().slice(-2000)).toEqual([41]);
    expect(await wellSet.exit, wellSet.stderr().slice(-2000)).toBe(0);
  });
});
