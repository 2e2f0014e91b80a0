/**
 * Attack (issue 13): a worker is killed with -9 while its prediction
 * renders; a worker on a machine whose clock runs days ahead takes the key
 * over. Whether the provider still keeps the prediction was judged by that
 * machine's clock against the answer's time on the store's: the live
 * prediction looked expired, the key was marked failed, and the next run
 * paid for it again.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { query, useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();
const skewClock = path.join(import.meta.dirname, '../helpers/skew-clock.mjs');

const MANIFEST = `version: 1
defaults: { image: two-people.png, prompt: skew expiry }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 81 }
`;

describe('attack: a prediction in flight is taken over by a worker whose clock runs days ahead', () => {
  it('it is collected, not taken for expired and paid again', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 800 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/expiry` };

    const first = worker('machine-first', manifest, env, []);
    await until(() => fake.submissions.length === 1, 'the first submit');
    for (let i = 0; i < 100; i++) {
      const rows = await query<{ status: string }>(url, 'SELECT status FROM renders').catch(() => []);
      if (rows[0]?.status === 'in-flight') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    await first.exit;

    const ahead = worker('machine-ahead', manifest, { ...env, NODE_OPTIONS: `--import=${skewClock}`, DUOLOGUE_TEST_CLOCK_SKEW_MS: String(8 * 86_400_000) }, []);
    expect(await ahead.exit, ahead.stderr().slice(-2000)).toBe(0);

    const next = worker('machine-next', manifest, env, []);
    await next.exit;
    expect(fake.submissions.length, `${ahead.stderr().slice(-1500)}\n${next.stderr().slice(-1500)}`).toBe(1);
  });
});
