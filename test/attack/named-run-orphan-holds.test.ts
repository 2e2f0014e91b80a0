/**
 * Attack (issue 13): a named run (`--run`) whose worker is killed with -9
 * after it submitted its scenes. Another worker of the same run (another
 * host) takes the claims over past their lease and collects the predictions
 * (one paid prediction per key: that part held). But the killed worker's
 * budget holds stayed `held` in the run's books for good: nothing adopts or
 * settles them, because the worker that collects the clip "only collects"
 * (reserved 0, charged 0). So the run's cap stays eaten by money that is
 * actually spent, the run's `spent` misses the charges (the report and
 * `cost_usd` say $0 for paid scenes), and `run_scenes` is overwritten with
 * cost 0 by the collector.
 *
 * Fixed: a worker of a named run that resumes a prediction adopts the hold
 * another worker of the run left on its key (RunLedger.adoptHold) and
 * settles it with the real charge, booking the render's cost to the run.
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



describe('attack: named run, a worker killed -9 after its submits', () => {
  it('the run books the collected charges as spent and holds nothing once every worker is done (was a bug: the dead worker\'s holds stayed held forever)', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.hold(); // every prediction stays processing until A is dead
    const { manifest } = tinyProject();
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/orphan` };
    const run = ['--run', 'nightly-orphan', '--budget', '5'];

    const a = worker('machine-a', manifest, env, run);
    await until(() => fake.submissions.length === 3 || a.child.exitCode !== null, 'worker A to submit the three scenes', 60_000);
    expect(a.child.exitCode, a.stderr()).toBeNull();
    // Wait until A recorded every id, then kill it without a chance to clean up.
    for (let i = 0; i < 300; i++) {
      const rows = await query<{ status: string }>(url, 'SELECT status FROM renders');
      if (rows.length === 3 && rows.every((r) => r.status === 'in-flight')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    a.child.kill('SIGKILL');
    await a.exit;
    fake.release();

    const b = worker('machine-b', manifest, env, run);
    expect(await b.exit, b.stderr()).toBe(0);
    // One paid prediction per key: this part holds.
    expect(fake.submissions).toHaveLength(3);
    const charged = fake.chargedUsd;
    expect(charged).toBeGreaterThan(0);

    const [runRow] = await query<{ id: number; spent_usd: number }>(url, "SELECT id, spent_usd FROM runs WHERE name = 'nightly-orphan'");
    const holds = await query<{ state: string; usd: number }>(url, 'SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds WHERE run_id = $1 GROUP BY state', [runRow.id]);
    const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
    // Every worker is gone: nothing may stay reserved, and the money paid is the run's spend.
    expect({ held: of('held'), spent: of('spent'), ledgerSpent: runRow.spent_usd }).toEqual({ held: 0, spent: charged, ledgerSpent: charged });
  });
  it('a worker killed inside its submit: the one that finds its task in the provider\'s list adopts its hold and books the charge', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.script('submit', { kind: 'slow', ms: 3_000 }); // the task is created after A is dead
    const { manifest } = tinyProject('version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: talk, left: tone-1s.wav, right: tone-2500ms.wav, seed: 5 }\n');
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/orphan-submit` };
    const run = ['--run', 'nightly-orphan-submit', '--budget', '5'];

    const a = worker('machine-a', manifest, env, run);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === '/api/v3/wavespeed-ai/infinitetalk/multi') || a.child.exitCode !== null, 'worker A to send its submit', 60_000);
    a.child.kill('SIGKILL');
    await a.exit;

    const b = worker('machine-b', manifest, env, run);
    expect(await b.exit, b.stderr()).toBe(0);
    expect(fake.submissions).toHaveLength(1);
    const [runRow] = await query<{ id: number; spent_usd: number }>(url, "SELECT id, spent_usd FROM runs WHERE name = 'nightly-orphan-submit'");
    const holds = await query<{ state: string; usd: number }>(url, 'SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds WHERE run_id = $1 GROUP BY state', [runRow.id]);
    const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
    expect({ held: of('held'), spent: of('spent'), ledgerSpent: runRow.spent_usd }).toEqual({ held: 0, spent: fake.chargedUsd, ledgerSpent: fake.chargedUsd });
  });
});
