/**
 * Attack (issue 13, busy-watch): workers waiting on a key another worker
 * holds. (1) A waiter is stopped (SIGSTOP) while it waits and continued after
 * the holder finished: it takes the clip, submits nothing. (2) The holder is
 * stopped while its prediction renders, past its lease, with two waiters
 * watching: exactly one takes the key over and resumes the prediction; when
 * the holder is continued, nothing is submitted again.
 */
import { describe, expect, it } from 'vitest';
import { query, useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();

const MANIFEST = `version: 1
defaults: { image: two-people.png, prompt: busy watch }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 91 }
`;

async function setup(prefix: string, msPerVideoSecond: number) {
  const fake = await startFake({ msPerVideoSecond });
  fakes.push(fake);
  const { manifest } = tinyProject(MANIFEST);
  const url = await pg.fresh();
  const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/${prefix}` };
  return { fake, manifest, env, run: ['--run', `busy-${prefix}`] };
}

describe('attack: busy-watch waiters paused, holders lapsed', () => {
  it('a waiter stopped while it waits, continued after the holder finished, submits nothing', { timeout: 60_000 }, async () => {
    const { fake, manifest, env, run } = await setup('paused-waiter', 2500);
    const holder = worker('machine-holder', manifest, env, run);
    await until(() => fake.submissions.length === 1, 'the holder submitted');
    const waiter = worker('machine-waiter', manifest, env, run);
    await until(() => waiter.stderr().includes('waiting ep1/s1'), 'the waiter waits', 30_000);
    waiter.child.kill('SIGSTOP');
    expect(await holder.exit, holder.stderr().slice(-1500)).toBe(0);
    waiter.child.kill('SIGCONT');
    expect(await waiter.exit, waiter.stderr().slice(-1500)).toBe(0);
    expect(fake.submissions.length).toBe(1);
  });

  it('a holder stopped past its lease while two wait: one resumes its prediction, nothing is paid again', { timeout: 60_000 }, async () => {
    const { fake, manifest, env, run } = await setup('lapsed-holder', 3000);
    const holder = worker('machine-holder', manifest, env, run);
    await until(() => fake.submissions.length === 1, 'the holder submitted');
    const waiters = ['machine-w1', 'machine-w2'].map((h) => worker(h, manifest, env, run));
    await until(() => waiters.every((w) => w.stderr().includes('waiting ep1/s1')), 'both wait', 30_000);
    holder.child.kill('SIGSTOP');
    const codes = await Promise.all(waiters.map((w) => w.exit));
    holder.child.kill('SIGCONT');
    await holder.exit;
    expect(codes, waiters.map((w) => w.stderr().slice(-1200)).join('\n---\n')).toEqual([0, 0]);
    expect(fake.submissions.length, holder.stderr().slice(-1500)).toBe(1);
    const resumed = waiters.filter((w) => /^resuming ep1\/s1/m.test(w.stderr()));
    expect(resumed.length, waiters.map((w) => w.stderr().slice(-1200)).join('\n---\n')).toBe(1);
    // The run's books count the one prediction once, whoever collected it.
    const [books] = await query<{ usd: number }>(env.DUOLOGUE_STORE, "SELECT coalesce(sum(h.usd), 0)::float AS usd FROM run_holds h JOIN runs r ON r.id = h.run_id WHERE r.name = 'busy-lapsed-holder' AND h.state = 'spent'");
    expect(books.usd, holder.stderr().slice(-1500)).toBeCloseTo(fake.chargedUsd, 4);
  });
});
