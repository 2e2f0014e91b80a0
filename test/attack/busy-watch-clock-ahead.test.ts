/**
 * Attack (issue 13, busy-watch): a worker whose clock runs hours ahead waits
 * on a key a live worker on another machine holds. The watch judged the
 * holder's lease (on the store's clock) by this machine's clock: every lease
 * looked lapsed, so the waiter was woken at every poll and claimed again in
 * vain — the one claim transaction per waited key per poll the watch exists
 * to save, and a "waiting" line each time.
 */
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
const skewClock = path.join(import.meta.dirname, '../helpers/skew-clock.mjs');

const MANIFEST = `version: 1
defaults: { image: two-people.png, prompt: busy watch skew }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 111 }
`;

describe('attack: busy-watch on a machine whose clock runs hours ahead', () => {
  it('the waiter is not woken while the live holder keeps its lease', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 3000 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/watch` };
    const run = ['--run', 'watch-skew'];
    const holder = worker('machine-holder', manifest, env, run);
    await until(() => fake.submissions.length === 1, 'the holder submitted');
    const waiter = worker('machine-ahead', manifest, { ...env, NODE_OPTIONS: `--import=${skewClock}`, DUOLOGUE_TEST_CLOCK_SKEW_MS: String(3 * 3_600_000) }, run);
    expect(await holder.exit, holder.stderr().slice(-1500)).toBe(0);
    expect(await waiter.exit, waiter.stderr().slice(-1500)).toBe(0);
    expect(fake.submissions.length).toBe(1);
    const waits = waiter.stderr().split('\n').filter((l) => l.startsWith('waiting ep1/s1'));
    expect(waits.length, waiter.stderr()).toBeLessThanOrEqual(2);
  });
});
