/**
 * Attack (issue 13): the lost-answer lookup's "90 s after it was sent, the
 * request can no longer be in flight" does not hold for a worker paused
 * (SIGSTOP, a suspended VM, a long GC pause) inside its submit, on another
 * host. Worker A marks the key submitting and sends; its request reaches
 * the provider late (the fake holds it 15 s, more than the 4.5 s the 90 s
 * window is at DUOLOGUE_TIME_SCALE=0.05); A is stopped past its lease.
 * Worker B takes the claim over, looks for A's task twice (absent both
 * times: it does not exist yet), and submits again. Then A's request lands:
 * two paid predictions for one key.
 *
 * No fix here (a provider that does not check fencing tokens cannot be
 * fenced). Suggested: (1) the sender re-checks its clock right before the
 * request is written and refuses to send when more than a fraction of the
 * lease passed since "submitting" was committed (a paused worker wakes up
 * and finds time jumped); (2) the taker-over waits until the lapsed
 * owner's last heartbeat + the provider's maximum request time (not the
 * submit's sent time) before it counts "absent", and (3) README: say that a
 * worker frozen mid-submit for longer than that can still be paid twice.
 */
import { describe, expect, it } from 'vitest';
import { useHostWorkers, query } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();

const { fakes, worker } = useHostWorkers();



const ONE_SCENE = 'version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: talk, left: tone-1s.wav, right: tone-2500ms.wav, seed: 5 }\n';
const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';

describe('attack: a worker frozen inside its submit, its request landing late', () => {
  // Skipped, not it.fails: whether B's second look comes before A's late request lands depends on the
  // machine's load (it passed once in the full suite), so neither outcome is certain. Open bug, issue 13.
  it.skip('one paid prediction per key (open bug, timing-dependent: the other worker looks twice, finds nothing yet, and pays again)', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.script('submit', { kind: 'slow', ms: 15_000 });
    const { manifest } = tinyProject(ONE_SCENE);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/late` };

    const a = worker('machine-a', manifest, env, []);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === SUBMIT) || a.child.exitCode !== null, 'worker A to send its submit', 60_000);
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2_000));
    const b = worker('machine-b', manifest, env, []);
    await b.exit;
    a.child.kill('SIGCONT');
    await a.exit;
    await until(() => fake.openPredictions === 0, 'the predictions to end', 30_000);
    const rows = await query<{ status: string }>(url, 'SELECT status FROM renders');
    expect(rows.map((r) => r.status)).toEqual(['complete']);
    expect(fake.submissions).toHaveLength(1);
  });
});
