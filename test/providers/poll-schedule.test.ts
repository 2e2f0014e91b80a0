import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import type { PlannedScene } from '../../pipeline/plan.ts';
import { DEFAULT_POLICY, firstPollDelayMs, pollDelayMs, scaledPolicy } from '../../pipeline/providers/wavespeed/policy.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const KEY = 'sk-poll-schedule-0a1b2c';
let task: PlannedScene;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  task = (await plannedTasks(tinyProject().manifest))[0]!;
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

describe('poll schedule (WaveSpeed: no faster than every 5 s; the first look after the expected processing time)', () => {
  it('the real schedule: a 3 s scene is first polled after 30 s, then every 5 s growing to 15 s, never faster', () => {
    expect(firstPollDelayMs(3, DEFAULT_POLICY)).toBe(30_000);
    expect(firstPollDelayMs(0.2, DEFAULT_POLICY)).toBe(5_000); // a short clip still waits the floor
    expect([0, 1, 2, 3, 4, 9].map((n) => pollDelayMs(n, DEFAULT_POLICY))).toEqual([5_000, 7_500, 11_250, 15_000, 15_000, 15_000]);
  });

  it('a new task is not polled before its expected processing time; every later wait keeps the floor', async () => {
    const policy = { ...FAST_POLICY, pollInitialMs: 20, pollMaxMs: 30, firstPollPerVideoSecondMs: 100 };
    // The fake needs 3 polls' worth of time past the first look, so the later waits are exercised too.
    const fake = await new FakeWavespeed({ apiKey: KEY, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-fake-')), msPerVideoSecond: 140 }).start();
    const sleeps: number[] = [];
    const provider = createWavespeedProvider({
      apiKey: KEY,
      baseUrl: fake.apiUrl,
      ffmpeg,
      workDir: mkdtempSync(path.join(tmpdir(), 'dl-ws-')),
      uploads: createMemoryUploadMemo(),
      policy,
      sleep: async (ms, signal) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
        if (signal?.aborted) throw Object.assign(new Error('aborted'), { code: 'E_ABORTED' });
      },
    });
    cleanups.push(async () => {
      await provider.close?.();
      await fake.stop();
    });
    const { predictionId } = await provider.submit(task);
    const polls = () => fake.requests.filter((r) => r.path.endsWith('/result')).length;
    expect(polls()).toBe(0);
    const result = await provider.wait(predictionId, task, { justSubmitted: true });
    expect(result.status).toBe('completed');
    const expected = Math.round(task.videoSeconds * 100);
    expect(expected).toBeGreaterThan(policy.pollInitialMs); // the expected time decides, not the floor
    expect(sleeps[0]).toBe(expected);
    expect(sleeps.length).toBeGreaterThan(1);
    expect(Math.min(...sleeps)).toBeGreaterThanOrEqual(policy.pollInitialMs);
    expect(polls()).toBe(sleeps.length); // one look after each wait, none before the first

    // A task resumed from an earlier run may be long done: it is looked at straight away.
    sleeps.length = 0;
    const before = polls();
    await provider.wait(predictionId, task);
    expect(polls()).toBe(before + 1);
    expect(sleeps).toEqual([]);
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
