import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import { retryAfterMs, DEFAULT_POLICY } from '../../pipeline/providers/wavespeed/policy.ts';
import { createWavespeedProvider, type WavespeedOptions } from '../../pipeline/providers/wavespeed/provider.ts';
import { FakeWavespeed, type FakeOptions } from '../fakes/wavespeed-server.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const KEY = 'sk-live-SECRET-4f9a8b7c6d5e';
let tasks: PlannedScene[];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  tasks = await plannedTasks(tinyProject().manifest);
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

/** A fake server and a provider pointed at it; sleeps are recorded, not waited (besides a tick). */
async function setup(fakeOptions: Partial<FakeOptions> = {}, providerOptions: Partial<WavespeedOptions> = {}) {
  const fake = await new FakeWavespeed({ apiKey: KEY, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-fake-')), msPerVideoSecond: 2, ...fakeOptions }).start();
  const sleeps: number[] = [];
  const retries: string[] = [];
  const workDir = mkdtempSync(path.join(tmpdir(), 'dl-ws-'));
  const provider = createWavespeedProvider({
    apiKey: KEY,
    baseUrl: fake.apiUrl,
    ffmpeg,
    workDir,
    uploads: createMemoryUploadMemo(),
    policy: FAST_POLICY,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, Math.min(ms, 5)));
      if (signal?.aborted) throw Object.assign(new Error('aborted'), { code: 'E_ABORTED' });
    },
    onRetry: (r) => retries.push(r.reason),
    ...providerOptions,
  });
  cleanups.push(async () => {
    await provider.close?.();
    await fake.stop();
  });
  const out = mkdtempSync(path.join(tmpdir(), 'dl-out-'));
  const render = async (task = tasks[0]) => {
    const { predictionId } = await provider.submit(task);
    const result = await provider.wait(predictionId, task);
    if (result.status !== 'completed') return { predictionId, result };
    return { predictionId, result, clip: await provider.download(result, task, path.join(out, `${task.sceneId}.mp4`)) };
  };
  return { fake, provider, sleeps, retries, render, workDir, out };
}

/** Runs a promise that must fail; every failure's message is checked for the key here (each test on its own). */
async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (error) {
    for (let e = error as Error | undefined; e; e = e.cause as Error | undefined) {
      expect(String(e.message)).not.toContain(KEY);
      expect(String(e.stack)).not.toContain(KEY); // shown with DUOLOGUE_DEBUG
    }
    return error as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

const submits = (fake: FakeWavespeed) => fake.requests.filter((r) => r.path.endsWith('/infinitetalk/multi')).length;

describe('WaveSpeed failures against the fake server', () => {
  it('401: E_AUTH, says to check the key, never shows it', async () => {
    const { provider } = await setup({}, { apiKey: 'sk-wrong-key-000000' });
    const error = await failure(provider.submit(tasks[0]));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toMatch(/401 — the API key was refused \("Unauthorized"\) \(check WAVESPEED_API_KEY\)/);
    expect(error.message).not.toContain('sk-wrong-key');
  });

  it('403 shows the API’s own words (account suspended), never the key even when the API echoes it', async () => {
    const { fake, provider } = await setup();
    fake.script('upload', { kind: 'status', status: 403, body: JSON.stringify({ code: 403, message: `account suspended for key ${KEY}` }) });
    const error = await failure(provider.submit(tasks[0]));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toMatch(/403 — the API key was refused \("account suspended for key \[redacted\]"\)/);
  });

  it('an API that echoes the Authorization header it got: every error says [redacted], never the key', async () => {
    const { fake, provider } = await setup();
    const echoed = /\(sent with authorization: Bearer \[redacted\]\)/;
    // On an upload (403: the run stops), on both tries of a submit (400: refused inputs are uploaded again once), on a poll.
    fake.script('upload', { kind: 'echo-key', status: 403 });
    expect((await failure(provider.submit(tasks[0]))).message).toMatch(echoed);
    fake.script('submit', { kind: 'echo-key', status: 400 }, { kind: 'echo-key', status: 400 });
    expect((await failure(provider.submit(tasks[0]))).message).toMatch(echoed);
    const { predictionId } = await provider.submit(tasks[0]);
    fake.script('result', { kind: 'echo-key', status: 400 });
    expect((await failure(provider.poll(predictionId, tasks[0]))).message).toMatch(echoed);
    // The fake did echo it: what the client got had the key in it.
    expect(fake.requests.filter((r) => r.origin === 'api').every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });

  it('429 on upload: backs off for Retry-After seconds, then succeeds', async () => {
    const { fake, sleeps, render } = await setup();
    fake.script('upload', { kind: 'status', status: 429, retryAfter: '0.2' });
    const { clip } = await render();
    expect(clip).toBeDefined();
    expect(sleeps[0]).toBe(200);
  });

  it('Retry-After as an HTTP date is honoured (capped by the policy)', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    expect(retryAfterMs('Thu, 26 Nov 2026 10:00:30 GMT', now, DEFAULT_POLICY)).toBe(30_000);
    expect(retryAfterMs('7', now, DEFAULT_POLICY)).toBe(7_000);
    expect(retryAfterMs('86400', now, DEFAULT_POLICY)).toBe(DEFAULT_POLICY.retryAfterMaxMs);
    expect(retryAfterMs('soon', now, DEFAULT_POLICY)).toBeUndefined();
    // Zero or a past date (a server clock behind ours) is no hint: retrying at once, over and over, is not an option.
    expect(retryAfterMs('0', now, DEFAULT_POLICY)).toBeUndefined();
    expect(retryAfterMs('Thu, 26 Nov 2026 09:59:00 GMT', now, DEFAULT_POLICY)).toBeUndefined();
  });

  it('429 on submit is retried (no task was created): one task in the end', async () => {
    const { fake, render } = await setup();
    fake.script('submit', { kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 429 });
    const { clip } = await render();
    expect(clip).toBeDefined();
    expect(submits(fake)).toBe(3);
    expect(fake.submissions).toHaveLength(1);
  });

  it('500 on submit is ambiguous: not retried, says it may have been billed', async () => {
    const { fake, provider } = await setup();
    fake.script('submit', { kind: 'status', status: 500 });
    const error = await failure(provider.submit(tasks[0]));
    expect(error).toMatchObject({ code: 'E_API', ambiguous: true });
    expect(error.message).toMatch(/ep1\/both.*500.*may have been created and billed/);
    expect(submits(fake)).toBe(1);
  });

  it('a reset connection on submit is ambiguous too: exactly one attempt', async () => {
    const { fake, provider } = await setup();
    fake.script('submit', { kind: 'reset' });
    const error = await failure(provider.submit(tasks[0]));
    expect(error).toMatchObject({ ambiguous: true });
    expect(submits(fake)).toBe(1);
  });

  it('connection refused before sending is retried for submits, then gives up clearly', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { provider, retries } = await setup({}, { baseUrl: `http://127.0.0.1:${port}` });
    // Inputs are URLs already, so the refused call is the submit itself.
    const task = { ...tasks[0], image: { ...tasks[0].image, location: 'https://cdn.example/i.png' }, tracks: { left: { ...tasks[0].tracks.left, location: 'https://cdn.example/l.wav' }, right: { ...tasks[0].tracks.right, location: 'https://cdn.example/r.wav' } } } as PlannedScene;
    const error = await failure(provider.submit(task));
    expect(error.message).toMatch(/gave up after 5 attempts \(last: ECONNREFUSED\)/);
    expect(retries).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });

  // A task resumed from an earlier run (not on this run's shared list) is polled on its own result.
  it('500s and resets while polling are retried', async () => {
    const { fake, provider, render, retries } = await setup();
    const { predictionId } = await render();
    expect(retries).toEqual([]);
    fake.script('result', { kind: 'status', status: 502 }, { kind: 'reset' }, { kind: 'status', status: 500 });
    expect(await provider.wait(predictionId, tasks[0])).toMatchObject({ status: 'completed' });
    expect(retries.slice(0, 3)).toEqual(['502 server error', expect.stringMatching(/SOCKET|ECONNRESET|closed/i), '500 server error']);
  });

  it('a slow answer past the headers timeout is retried on polls', async () => {
    const { fake, provider, render, retries } = await setup({}, { policy: { ...FAST_POLICY, headersTimeoutMs: 500 } });
    const { predictionId } = await render();
    // undici checks timeouts on a coarse (~1 s) clock, so the delay must be well past it.
    fake.script('result', { kind: 'slow', ms: 2_500 });
    expect(await provider.wait(predictionId, tasks[0])).toMatchObject({ status: 'completed' });
    expect(retries[0]).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('a failed prediction fails with the API error text', async () => {
    const { fake, render } = await setup();
    fake.script('submit', { kind: 'fail', error: 'face not detected in image' });
    const { result } = await render();
    expect(result).toEqual({ status: 'failed', error: 'failed: face not detected in image', failure: { kind: 'other' } });
    // With WaveSpeed's numeric code, the class is named and acted on.
    const coded = await setup();
    coded.fake.script('submit', { kind: 'fail', error: 'face not detected in image', code: 1401 });
    expect((await coded.render()).result).toEqual({ status: 'failed', error: 'failed: face not detected in image [input error 1401]', failure: { kind: 'input', code: 1401 } });
  });

  it('cancelled and timeout statuses are final failures', async () => {
    for (const status of ['cancelled', 'timeout'] as const) {
      const { fake, render } = await setup();
      fake.script('submit', { kind: 'status-final', status });
      const { result } = await render();
      expect(result).toMatchObject({ status: 'failed', error: expect.stringContaining(status) });
    }
  });

  it('malformed JSON, code ≠ 200, missing id, empty outputs: E_API naming scene and prediction', async () => {
    const { fake, provider, render } = await setup();
    fake.script('result', { kind: 'malformed' });
    const { predictionId } = await provider.submit(tasks[0]);
    const malformed = await failure(provider.poll(predictionId, tasks[0]));
    expect(malformed.message).toMatch(new RegExp(`ep1/both \\(prediction ${predictionId}\\): malformed JSON`));

    fake.script('result', { kind: 'code', code: 500, message: 'internal thing' });
    expect((await failure(provider.poll(predictionId, tasks[0]))).message).toMatch(/ep1\/both \(prediction pred-\d+\): API answered code 500: internal thing/);

    fake.script('submit', { kind: 'missing-id' });
    const noId = await failure(provider.submit(tasks[1]));
    expect(noId.message).toMatch(/submit ep1\/talk: the response has no data\.id — the task may have been created and billed/);

    fake.script('submit', { kind: 'empty-outputs' });
    const empty = await failure(render(tasks[2]));
    expect(empty.message).toMatch(/ep1\/solo \(prediction pred-\d+\): completed with no output URL/);
  });

  it('output 404: E_API saying the output is gone', async () => {
    const { fake, render } = await setup();
    fake.script('output', { kind: 'status', status: 404 });
    const error = await failure(render());
    expect(error.message).toMatch(/ep1\/both: the output is gone \(404/);
  });

  it('a truncated download is retried; a non-mp4 output is refused and leaves no file', async () => {
    const { fake, render, out } = await setup();
    fake.script('output', { kind: 'truncated' });
    const { clip } = await render();
    expect(clip!.bytes).toBe(statSync(clip!.path).size);
    expect(clip!.durationSeconds).toBeCloseTo(3.5, 1);

    fake.script('output', { kind: 'not-mp4' });
    const error = await failure(render(tasks[1]));
    expect(error.message).toMatch(/ep1\/talk \(prediction output\): the delivered clip is not a readable mp4/);
    expect(readdirSync(out).filter((f) => f.startsWith('talk'))).toEqual([]);
  });

  it('an output sent without a length is streamed to disk and checked the same: identical clip either way', async () => {
    const { fake, render } = await setup();
    const whole = (await render()).clip!;
    fake.script('output', { kind: 'chunked' });
    const chunked = (await render(tasks[1])).clip!;
    expect(fake.injected.get('output')).toBe(1);
    // The fake serves one canned output per task; both paths hash, size and measure what they wrote.
    for (const clip of [whole, chunked]) {
      expect(clip.bytes).toBe(statSync(clip.path).size);
      expect(clip.sha256).toBe(createHash('sha256').update(readFileSync(clip.path)).digest('hex'));
    }
    expect(chunked.durationSeconds).toBeGreaterThan(0);
  });

  it('a deadline ends the wait but keeps the prediction id for the next run', async () => {
    const { provider } = await setup({ msPerVideoSecond: 60_000 }, { policy: { ...FAST_POLICY, deadlineBaseMs: 30, deadlinePerVideoSecondMs: 0 } });
    const { predictionId } = await provider.submit(tasks[0]);
    const error = await failure(provider.wait(predictionId, tasks[0]));
    expect(error.message).toBe(`ep1/both: prediction ${predictionId} still processing at the deadline; its id is kept and the next run resumes it`);
  });

  it('Ctrl-C (abort) ends a wait with E_ABORTED', async () => {
    const { provider } = await setup({ msPerVideoSecond: 60_000 }, { sleep: undefined });
    const { predictionId } = await provider.submit(tasks[0]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(provider.wait(predictionId, tasks[0], { signal: controller.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('uploads each distinct file once; the key goes only to the API origin and into no file (messages: see failure())', async () => {
    const { fake, render, workDir, out } = await setup();
    for (const task of tasks) await render(task);
    const uploads = fake.requests.filter((r) => r.path === '/api/v3/media/upload/binary');
    // image, tone-1s.wav, tone-2500ms.wav, talk's two built tracks, solo's silent left track.
    expect(uploads).toHaveLength(6);
    const api = fake.requests.filter((r) => r.origin === 'api');
    const cdn = fake.requests.filter((r) => r.origin === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(api.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(cdn.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(JSON.stringify(cdn.map((r) => r.headers))).not.toContain(KEY);
    for (const dir of [workDir, out]) {
      for (const f of readdirSync(dir, { recursive: true }) as string[]) {
        const p = path.join(dir, f);
        if (statSync(p).isFile()) expect(readFileSync(p).includes(KEY), p).toBe(false);
      }
    }
    // Seeds and orders reach the API exactly as planned.
    expect(fake.submissions.map((s) => [s.body.seed, s.body.order, s.body.resolution])).toEqual(tasks.map((t) => [t.seed, t.order, t.resolution]));
  });
});
