/**
 * Attack (issue 13): on a shared (PostgreSQL) store, a worker whose clock
 * runs hours ahead submits; the submit is answered, but the prediction's
 * output is never there (404, three runs in a row), so the key is left for
 * a person ("a key whose last submit was answered is not a lost answer").
 * Whether it was answered was judged by comparing the submit's start on the
 * sender's clock with the answer's time on the store's: hours ahead, the
 * answer looked older than the submit, the answered submit was taken for a
 * lost one, the list showed no other task, and the next run paid again.
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
defaults: { image: two-people.png, prompt: skew answered }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 71 }
`;

describe('attack: a worker whose clock is hours ahead, an answered submit whose output never comes', () => {
  it('the key is held for a person, not paid again', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 5 });
    fakes.push(fake);
    fake.rates('output', [{ fault: { kind: 'status', status: 404 }, rate: 1 }]);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = {
      WAVESPEED_API_KEY: KEY,
      WAVESPEED_BASE_URL: fake.apiUrl,
      DUOLOGUE_TIME_SCALE: '0.02',
      DUOLOGUE_LEASE_SECONDS: '1',
      DUOLOGUE_STORE: url,
      ...s3.env(),
      DUOLOGUE_CLIPS: `s3://${BUCKET}/answered`,
      NODE_OPTIONS: `--import=${skewClock}`,
      DUOLOGUE_TEST_CLOCK_SKEW_MS: String(3 * 3_600_000),
    };
    // Runs one after another on the one machine until the output has been missed three times in a row.
    let log = '';
    for (let run = 0; run < 4 && !log.includes('could not be fetched 3 times'); run++) {
      const w = worker('machine-ahead', manifest, env, []);
      await w.exit;
      log = w.stderr();
    }
    expect(log).toContain('could not be fetched 3 times');
    expect(fake.submissions.length).toBe(1);

    fake.rates('output', []);
    const next = worker('machine-ahead', manifest, env, []);
    await next.exit;
    expect(fake.submissions.length, next.stderr().slice(-2000)).toBe(1);
  });
});
