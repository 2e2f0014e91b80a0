/**
 * A submit whose answer is lost (cut connection, 5xx, kill -9 mid-request)
 * may have created a billed task. It is looked up in the provider's
 * prediction list and attached, never paid twice; only when two looks after
 * the request's window show no task is it submitted again, and the ledger
 * says why.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { renderChild, until } from '../helpers/engine.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

const seedsOf = (fake: FakeWavespeed) => fake.submissions.map((s) => s.body.seed);

describe('lost submit answers', () => {
  it('answers cut after the task was created: one render finishes every scene, one task per key, each charged once', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1), sceneYaml('b', 2.5, 2), sceneYaml('c', 2.5, 3), sceneYaml('d', 2.5, 4)]);
    fake.script('submit', { kind: 'lost-answer' }, { kind: 'lost-answer' }, { kind: 'lost-answer' });
    const run = await startRun(manifest, cacheDir, fake, { concurrency: 2 }).done;
    expect(run.summary).toMatchObject({ rendered: 4, failed: 0 });
    expect(seedsOf(fake).sort()).toEqual([1, 2, 3, 4]);
    expect(run.summary.cost_usd).toBe(fake.chargedUsd);
    const notes = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true }).prepare("SELECT error FROM run_scenes WHERE error LIKE '%found as prediction%'").all();
    expect(notes).toHaveLength(3);
  });

  it('the list lags behind a task just created: the second look finds it', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 5)], { listLagMs: 1_000 });
    fake.script('submit', { kind: 'lost-answer' });
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(fake.submissions).toHaveLength(1);
  });

  it('no task was created (a 502 before anything): this run counts the hold and stops; the next run looks twice more, then submits it and says why', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 6)]);
    fake.script('submit', { kind: 'status', status: 502 });
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', costUsd: 0.15, error: expect.stringMatching(/next run looks again/) });
    expect(fake.submissions).toHaveLength(0);
    // The submit is recorded with who sent it, its send deadline, and (its request over) when it ended:
    // what lets a run on another machine settle it rather than hold it.
    const [{ submit_sent }] = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true }).prepare('SELECT submit_sent FROM renders').all() as { submit_sent: string }[];
    const recorded = JSON.parse(submit_sent) as { at: number; sendBy: number; closedAt: number; sender: string };
    expect(recorded.sender).toMatch(/^[^:]+:\d+:/);
    expect(recorded.sendBy).toBeGreaterThan(recorded.at);
    expect(recorded.closedAt).toBeGreaterThanOrEqual(recorded.at);
    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(fake.submissions).toHaveLength(1);
    const rows = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true }).prepare('SELECT error FROM run_scenes WHERE run_id = 2').all() as { error: string }[];
    expect(rows[0].error).toMatch(/submitted again: the provider's prediction list showed no task .* on two looks/);
  });

  it('an earlier prediction of the same key is never taken for the lost one (the list lags behind the new task)', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 10)], { listLagMs: 1_000 });
    fake.script('submit', { kind: 'fail', error: 'gpu fell over' }); // run 1: a prediction of this key that failed
    await startRun(manifest, cacheDir, fake).done;
    await new Promise((r) => setTimeout(r, 1_100)); // it is listed now; the next one will not be, at first
    fake.script('submit', { kind: 'lost-answer' });
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(fake.submissions).toHaveLength(2);
    expect(run.result.schedule.scenes[0].clip).toBeDefined();
    expect(fake.charges.size).toBe(1);
  });

  it('the list cannot be read: the scene is held for a person, not resubmitted', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 7)]);
    fake.script('submit', { kind: 'lost-answer' });
    fake.script('list', ...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 500 }))); // every attempt of one look (FAST_POLICY: 5)
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.summary.failed).toBe(1);
    expect(run.result.schedule.scenes[0].error).toMatch(/may have been billed|not resubmitted/);
    expect(fake.submissions).toHaveLength(1);
  });

  it('kill -9 while the submit request is open, then one more render: it finds the task and finishes without a person', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 8), sceneYaml('b', 2.5, 9)], { msPerVideoSecond: 5 });
    fake.script('submit', { kind: 'slow', ms: 1_000 }, { kind: 'slow', ms: 1_000 });
    const first = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl });
    await until(() => fake.requests.filter((r) => r.path.endsWith('/infinitetalk/multi')).length === 2, 'both submit requests');
    first.proc.kill('SIGKILL');
    await first.exit;
    const second = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl });
    expect(await second.exit).toBe(0);
    expect(seedsOf(fake).sort()).toEqual([8, 9]);
  });
});
