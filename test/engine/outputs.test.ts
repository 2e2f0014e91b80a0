/**
 * What a finished prediction may come back as, and what each costs: a glitch
 * on the output host is fetched again (never paid again), a clip the check
 * refuses is paid once and counted, a prediction the provider no longer knows
 * is put to a person instead of spinning or paying twice.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { until } from '../helpers/engine.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

describe('what a finished prediction comes back as', () => {
  it.each([
    ['an error page instead of the mp4', { kind: 'not-mp4' as const }],
    ['a 404 from the output host', { kind: 'status' as const, status: 404 }],
  ])('%s once: the prediction is kept and fetched again next run, never paid again', async (_what, fault) => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
    fake.script('output', fault);
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.summary.failed).toBe(1);
    expect(first.result.schedule.scenes[0].error).toMatch(/kept and the next run fetches it again/);
    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.summary).toMatchObject({ rendered: 1, failed: 0, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(1);
  });

  it('after a clip longer than the check accepts, a retry reserves at least what that one cost (the cap holds for the retry)', async () => {
    // 6 s planned ($0.18, at most $0.21); delivered 9 s: billed $0.27.
    const { fake, manifest, cacheDir } = await setup([sceneYaml('long', 6, 3)], { lengthDeviation: () => 3 });
    const first = await startRun(manifest, cacheDir, fake, { budgetUsd: 0.21 }).done;
    expect(fake.chargedUsd).toBe(0.27); // the provider billed past the worst case the check accepts: recorded as it is
    expect(first.summary.cost_usd).toBe(0.27);
    const second = await startRun(manifest, cacheDir, fake, { budgetUsd: 0.21 }).done;
    expect(second.result.schedule.scenes[0]).toMatchObject({ outcome: 'skipped', error: 'over budget' });
    expect(fake.submissions).toHaveLength(1);
  });

  it('completed with no output: paid and unusable, counted towards holding the key (no endless polling)', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 4)]);
    fake.script('submit', { kind: 'empty-outputs' });
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/completed with no output URL/), costUsd: 0.15 });
    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.summary).toMatchObject({ rendered: 1 });
    expect(fake.submissions).toHaveLength(2);
  });

  it('a prediction the provider does not know (wrong id attached, or deleted after 7 days): put to a person, not polled forever nor resubmitted', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 5)]);
    // The answer is lost and the prediction list cannot be read: a person has to decide.
    fake.script('submit', { kind: 'lost-answer' });
    fake.script('list', ...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 500 }))); // every attempt of one look (FAST_POLICY: 5)
    await startRun(manifest, cacheDir, fake).done;
    const key = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout).attention[0].key as string;
    expect((await runCli(['cache', 'attach', key, 'pred-does-not-exist', '--cache-dir', cacheDir])).code).toBe(0);
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.result.schedule.scenes[0].error).toMatch(/does not know this prediction .*cache attach .*--retry-ambiguous/);
    expect(fake.submissions).toHaveLength(1); // the lost one only
    // With the list readable again, the next run finds the real task and collects it: nothing paid twice.
    const again = await startRun(manifest, cacheDir, fake).done;
    expect(again.summary).toMatchObject({ rendered: 1, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(1);
  });
  it('an in-flight prediction older than the provider keeps them (7 days) is reported lost, not polled', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 6)], { msPerVideoSecond: 2_000 });
    const stop = new AbortController();
    const first = startRun(manifest, cacheDir, fake, { signal: stop.signal });
    await until(() => first.seen.some((e) => e.type === 'submitted'), 'the submit');
    stop.abort();
    await first.done;
    const db = new Database(path.join(cacheDir, 'duologue.db'));
    db.prepare('UPDATE renders SET submitted_at = submitted_at - ?').run(8 * 86_400_000);
    db.close();
    const polls = () => fake.requests.filter((r) => r.path.endsWith('/result')).length;
    const before = polls();
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.result.schedule.scenes[0].error).toMatch(/expired at the provider \(predictions are kept 7 days\)/);
    expect(polls()).toBe(before);
    expect(fake.submissions).toHaveLength(1);
  });
  it('an output that is never there: after 3 runs in a row it goes to a person instead of being fetched forever; nothing is paid again without --retry-ambiguous', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 7)]);
    fake.script('output', ...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 404 })));
    for (let i = 0; i < 2; i++) expect((await startRun(manifest, cacheDir, fake).done).result.schedule.scenes[0].error).toMatch(/fetches it again/);
    const third = await startRun(manifest, cacheDir, fake).done;
    expect(third.result.schedule.scenes[0].error).toMatch(/could not be fetched 3 times in a row\. Look at it on the WaveSpeed dashboard; to render the scene again \(paying again\) run with --retry-ambiguous$/);
    const fourth = await startRun(manifest, cacheDir, fake).done;
    expect(fourth.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed' });
    expect(fake.submissions).toHaveLength(1);
    const forced = await startRun(manifest, cacheDir, fake, { retryAmbiguous: true }).done;
    expect(forced.summary.rendered).toBe(1);
    expect(fake.submissions).toHaveLength(2);
  });
});
