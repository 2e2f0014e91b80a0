import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import { DEFAULT_POLICY, firstPollDelayMs, pollDelayMs, scaledPolicy, type WavespeedPolicy } from '../../pipeline/providers/wavespeed/policy.ts';
import type { FakeOptions, FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { fakeProviders } from '../helpers/fake-provider.ts';
import { cannedClip } from '../helpers/canned.ts';
import { runCli } from '../helpers/cli.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const KEY = 'sk-poll-schedule-0a1b2c';
let task: PlannedScene;

beforeAll(async () => {
  task = (await plannedTasks(tinyProject().manifest))[0]!;
});

const providers = fakeProviders();

async function setup(fakeOptions: Partial<FakeOptions>, policy: Partial<WavespeedPolicy>) {
  const sleeps: number[] = [];
  const { fake, provider } = await providers(fakeOptions, {
    policy,
    concurrency: 8, // submits are awaited before any wait here: the limiter must let them all start
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, ms));
      if (signal?.aborted) throw Object.assign(new Error('aborted'), { code: 'E_ABORTED' });
    },
  });
  return { fake, provider, sleeps };
}

const looks = (fake: FakeWavespeed) => ({
  list: fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v3/predictions').length,
  result: fake.requests.filter((r) => r.path.endsWith('/result')).length,
});

describe('poll schedule (WaveSpeed: no faster than every 5 s; the first look after the expected processing time)', () => {
  it('the real schedule: a 3 s scene is first polled after 30 s, then every 5 s growing to 15 s, never faster', () => {
    expect(firstPollDelayMs(3, DEFAULT_POLICY)).toBe(30_000);
    expect(firstPollDelayMs(0.2, DEFAULT_POLICY)).toBe(5_000); // a short clip still waits the floor
    expect([0, 1, 2, 3, 4, 9].map((n) => pollDelayMs(n, DEFAULT_POLICY))).toEqual([5_000, 7_500, 11_250, 15_000, 15_000, 15_000]);
  });

  it('a new task is not looked at before its expected processing time; every later wait keeps the floor; a completed task is collected from the list, with no request of its own', async () => {
    const policy = { ...FAST_POLICY, pollInitialMs: 20, pollMaxMs: 30, firstPollPerVideoSecondMs: 100 };
    // The fake needs a few looks' worth of time past the first one, so the later waits are exercised too.
    const { fake, provider, sleeps } = await setup({ msPerVideoSecond: 140 }, policy);
    const { predictionId } = await provider.submit(task);
    expect(looks(fake)).toEqual({ list: 0, result: 0 });
    const result = await provider.wait(predictionId, task, { justSubmitted: true });
    expect(result.status).toBe('completed');
    const expected = Math.round(task.videoSeconds * 100);
    expect(expected).toBeGreaterThan(policy.pollInitialMs); // the expected time decides, not the floor
    expect(sleeps[0]).toBe(expected);
    expect(sleeps.length).toBeGreaterThan(1);
    expect(Math.min(...sleeps)).toBeGreaterThanOrEqual(policy.pollInitialMs);
    // One look after each wait, none before the first: "still processing" came from the shared
    // list, and so did "completed" with its output URL: the task's own result was never asked for.
    expect(looks(fake)).toEqual({ list: sleeps.length, result: 0 });
    expect(result).toMatchObject({ status: 'completed', outputUrl: expect.stringContaining(predictionId) });

    // A task resumed from an earlier run may be long done: it is asked about straight away, on its own result.
    sleeps.length = 0;
    await provider.wait(predictionId, task);
    expect(looks(fake)).toEqual({ list: expect.any(Number), result: 1 });
    expect(sleeps).toEqual([]);
  });

  it('tasks in flight together share list looks: far fewer requests than one poll each', async () => {
    const policy = { ...FAST_POLICY, pollInitialMs: 30, pollMaxMs: 30, firstPollPerVideoSecondMs: 10 };
    const { fake, provider } = await setup({ msPerVideoSecond: 250, cannedOutput: await cannedClip(), cannedSeconds: 1, maxConcurrent: 6 }, policy);
    const scenes = Array.from({ length: 6 }, (_, i) => ({ ...task, sceneId: `s${i}`, seed: 1000 + i }));
    const ids = await Promise.all(scenes.map((t) => provider.submit(t)));
    const results = await Promise.all(ids.map(({ predictionId }, i) => provider.wait(predictionId, scenes[i]!, { justSubmitted: true })));
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    const { list, result } = looks(fake);
    expect(result).toBe(0); // each completed task's output URL came from the list
    // Each task waited through several looks; one poll each would have cost 6 requests a look.
    const perTaskLooks = Math.floor(250 / 30);
    expect(perTaskLooks).toBeGreaterThanOrEqual(3);
    expect(list).toBeLessThan(perTaskLooks * 6 / 2);
  });

  it('a task the list shows failed is asked about on its own result (the error code is only there)', async () => {
    const policy = { ...FAST_POLICY, pollInitialMs: 20, pollMaxMs: 20, firstPollPerVideoSecondMs: 20 };
    const { fake, provider } = await setup({ msPerVideoSecond: 100 }, policy);
    fake.script('submit', { kind: 'fail', error: 'flagged', code: 1200 });
    const { predictionId } = await provider.submit(task);
    const result = await provider.wait(predictionId, task, { justSubmitted: true });
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'moderation', code: 1200 } });
    expect(looks(fake).result).toBe(1);
  });

  it('a failing list costs nothing but requests: every task falls back to its own polls and completes', async () => {
    const policy = { ...FAST_POLICY, pollInitialMs: 20, pollMaxMs: 20, firstPollPerVideoSecondMs: 20 };
    const { fake, provider } = await setup({ msPerVideoSecond: 100 }, policy);
    fake.script('list', ...Array.from({ length: 50 }, () => ({ kind: 'status' as const, status: 404, body: 'no list here' })));
    const { predictionId } = await provider.submit(task);
    const result = await provider.wait(predictionId, task, { justSubmitted: true });
    expect(result.status).toBe('completed');
    expect(looks(fake).result).toBeGreaterThan(1);
  });
});

describe('DUOLOGUE_TIME_SCALE (tests against a local fake only)', () => {
  it('shrinks every wait but keeps socket timeouts at 2 s or more, and a lost answer waits out the headers timeout', () => {
    const p = scaledPolicy(0.001);
    expect(p.pollInitialMs).toBe(5);
    expect(p.firstPollPerVideoSecondMs).toBe(10);
    expect(p.rateWindowMs).toBe(60);
    expect(p.headersTimeoutMs).toBe(2_000);
    expect(p.lostAnswerWindowMs).toBeGreaterThanOrEqual(p.headersTimeoutMs);
    expect(p.predictionRetentionMs).toBe(DEFAULT_POLICY.predictionRetentionMs);
  });

  it('is refused for any server but this machine, and for a bad number, before anything is read or sent', async () => {
    const { manifest } = tinyProject();
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-scale-'));
    const args = ['render', manifest, '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--no-report'];
    const remote = await runCli(args, { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: 'https://api.wavespeed.ai', DUOLOGUE_TIME_SCALE: '0.01' });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/DUOLOGUE_TIME_SCALE only applies to a test server on this machine/);
    const unset = await runCli(args, { WAVESPEED_API_KEY: KEY, DUOLOGUE_TIME_SCALE: '0.01' });
    expect(unset.code).toBe(2);
    const bad = await runCli(args, { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: 'http://127.0.0.1:9', DUOLOGUE_TIME_SCALE: '2' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Expected `DUOLOGUE_TIME_SCALE` to be a number above 0 and at most 1, got `2`/);
    expect(remote.stderr + unset.stderr + bad.stderr).not.toContain(KEY);
  });
});
