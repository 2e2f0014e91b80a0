/**
 * `--retry-ambiguous`: a submit that may have been billed is put to a person;
 * only when they say so is the scene paid again — exactly once more, and the
 * run's books say why. Even then the provider's list is looked at first: a
 * task found there is collected, not paid twice.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY } from '../helpers/engine.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

/** Every attempt of one look at the prediction list fails (FAST_POLICY: 5 attempts). */
const listUnreadable = (fake: FakeWavespeed) => fake.script('list', ...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 500 })));

/** What the ledger wrote for the one scene of a run (the last run by default). */
function ledgerRow(cacheDir: string, runId?: number) {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return db.prepare('SELECT outcome, cost_usd, error FROM run_scenes WHERE run_id = coalesce(?, (SELECT max(id) FROM runs))').get(runId ?? null) as { outcome: string; cost_usd: number; error: string | null };
  } finally {
    db.close();
  }
}

const status = async (cacheDir: string) => JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout) as { attention: { key: string; status: string }[] };

describe('--retry-ambiguous', () => {
  it('a lost answer the list cannot settle: held until --retry-ambiguous, which pays exactly once more and says why in the ledger', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
    fake.script('submit', { kind: 'lost-answer' });
    listUnreadable(fake);
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', costUsd: 0.15 }); // maybe billed: this run's charge, at worst
    expect((await status(cacheDir)).attention).toMatchObject([{ status: 'ambiguous' }]);

    // Without the flag a person has not decided yet: nothing is sent.
    listUnreadable(fake);
    const held = await startRun(manifest, cacheDir, fake).done;
    expect(held.result.schedule.scenes[0].error).toMatch(/not resubmitted\. Check the WaveSpeed dashboard: if the task is there, run "duologue cache attach KEY PREDICTION_ID" \(keys: duologue status\); if not, run with --retry-ambiguous$/);
    expect(fake.submissions).toHaveLength(1);

    listUnreadable(fake);
    const retried = await startRun(manifest, cacheDir, fake, { retryAmbiguous: true }).done;
    expect(retried.summary).toMatchObject({ rendered: 1, failed: 0, cost_usd: 0.15 });
    expect(fake.submissions).toHaveLength(2); // exactly one more paid prediction
    expect(retried.submitted).toEqual([fake.submissions[1].id]);
    expect(ledgerRow(cacheDir, retried.result.runId)).toMatchObject({ outcome: 'rendered', cost_usd: 0.15, error: expect.stringMatching(/--retry-ambiguous/) });
    expect((await status(cacheDir)).attention).toEqual([]);
  });

  it('with --retry-ambiguous the list is still looked at first: a task found there is collected, not paid again', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 2)]);
    fake.script('submit', { kind: 'lost-answer' });
    listUnreadable(fake);
    await startRun(manifest, cacheDir, fake).done;
    const retried = await startRun(manifest, cacheDir, fake, { retryAmbiguous: true }).done; // the list is readable again
    expect(retried.summary).toMatchObject({ rendered: 1, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(1);
    expect(ledgerRow(cacheDir, retried.result.runId).error).toMatch(/found as prediction/);
  });

  it('the CLI flag: `render --retry-ambiguous` resubmits an output that was never there, once; without it nothing is sent', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 3)]);
    // Three runs in a row cannot fetch the finished prediction's output: a person decides.
    fake.script('output', ...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 404 })));
    for (let i = 0; i < 3; i++) await startRun(manifest, cacheDir, fake).done;
    expect((await status(cacheDir)).attention).toHaveLength(1);
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.001' };
    const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--json', '--no-report'];
    const without = await runCli(args, env);
    expect(without.code).toBe(1);
    expect(fake.submissions).toHaveLength(1);
    const withFlag = await runCli([...args, '--retry-ambiguous'], env);
    expect(withFlag.code, withFlag.stderr).toBe(0);
    expect(JSON.parse(withFlag.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'summary', rendered: 1, cost_usd: 0.15 });
    expect(fake.submissions).toHaveLength(2);
    expect(ledgerRow(cacheDir).error).toMatch(/--retry-ambiguous/);
  });
});
