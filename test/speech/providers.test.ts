import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AmbiguousSubmitError } from '../../pipeline/errors.ts';
import { ffprobe, resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { createWavespeedSpeech } from '../../pipeline/providers/wavespeed/speech.ts';
import { estimateLength } from '../../pipeline/speech/estimate.ts';
import { createLocalSpeech, findOnPath } from '../../pipeline/providers/local/speech.ts';
import { speechKey, speechKeyInput } from '../../pipeline/speech/key.ts';
import type { SpeechProvider, SpeechTask } from '../../pipeline/providers/speech-types.ts';
import type { SpeechSpec } from '../../pipeline/types.ts';
import { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';

const ffmpeg = resolveFfmpegPaths();
const KEY = 'sk-live-SECRET-speech-1234';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));

const spec: SpeechSpec = { text: 'Good morning. The kettle is on.', voice: 'Wise_Woman', model: 'speech-02-hd', speed: 1, volume: 1, pitch: 0 };
function taskFor(provider: SpeechProvider, s: SpeechSpec = spec): SpeechTask {
  const model = provider.modelFor(s);
  return { key: speechKey(speechKeyInput(provider.id, model, s)), episodeId: 'e1', sceneId: 's1', line: 1, spec: s, model, estimateSeconds: estimateLength(s).ms / 1000 };
}
async function voice(provider: SpeechProvider, task: SpeechTask, dest: string) {
  const { predictionId } = await provider.submit(task);
  const result = await provider.wait(predictionId, task);
  expect(result.status).toBe('completed');
  return provider.download(result, task, dest);
}

function fakeSpeech(fake: FakeWavespeed) {
  const provider = createWavespeedSpeech({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, policy: FAST_POLICY, sleep: async (ms) => void (await new Promise((r) => setTimeout(r, Math.min(ms, 5)))) });
  cleanups.push(async () => provider.close?.());
  return provider;
}
async function startFake() {
  const fake = await new FakeWavespeed({ apiKey: KEY, ffmpeg, workDir: tmp('sp-fake-'), msPerVideoSecond: 2 }).start();
  cleanups.push(() => fake.stop());
  return fake;
}

describe('speech providers', () => {
  it.runIf(findOnPath('espeak-ng'))('local: espeak-ng voices the text into a wav of about its length', async () => {
    const provider = createLocalSpeech({ ffmpeg, workDir: tmp('sp-work-') });
    expect(provider.modelFor(spec)).toBe('espeak-ng');
    const got = await voice(provider, taskFor(provider), path.join(tmp('sp-out-'), 'a.wav'));
    expect(got.durationSeconds).toBeGreaterThan(1);
    expect(got.durationSeconds).toBeLessThan(estimateLength(spec).maxMs / 1000);
    expect(createHash('sha256').update(readFileSync(got.path)).digest('hex')).toBe(got.sha256);
  });

  it('local without espeak-ng: a placeholder tone of the estimated length, the same bytes every time, another model (key)', async () => {
    const provider = createLocalSpeech({ ffmpeg, workDir: tmp('sp-work-'), espeak: false });
    expect(provider.modelFor(spec)).toBe('placeholder-tone');
    const out = tmp('sp-out-');
    const a = await voice(provider, taskFor(provider), path.join(out, 'a.wav'));
    const b = await voice(provider, taskFor(provider), path.join(out, 'b.wav'));
    expect(a.sha256).toBe(b.sha256);
    expect(a.durationSeconds).toBeCloseTo(estimateLength(spec).ms / 1000, 1);
    const withEspeak = createLocalSpeech({ ffmpeg, workDir: out, espeak: '/usr/bin/espeak-ng' });
    expect(taskFor(provider).key).not.toBe(taskFor(withEspeak).key);
  });

  it('wavespeed: POSTs MiniMax Speech 02 with the voice and text, polls the result like video, fetches the audio', async () => {
    const fake = await startFake();
    const provider = fakeSpeech(fake);
    const turbo = { ...spec, model: 'speech-02-turbo', emotion: 'happy' };
    const got = await voice(provider, taskFor(provider, turbo), path.join(tmp('sp-out-'), 'a.wav'));
    expect(fake.speechSubmissions).toHaveLength(1);
    expect(fake.speechSubmissions[0].body).toEqual({ text: turbo.text, voice_id: 'Wise_Woman', speed: 1, volume: 1, pitch: 0, emotion: 'happy', english_normalization: true, model: 'speech-02-turbo' });
    expect(fake.submissions).toHaveLength(0); // no video task
    const probe = await ffprobe(got.path, ffmpeg);
    expect(probe.streams.some((s) => s.codec_type === 'audio')).toBe(true);
    expect(got.durationSeconds).toBeGreaterThan(1);
    expect([...fake.charges.values()]).toEqual([0.0009]); // 31 characters at $0.03 per 1,000
    // The key goes to the API only, never to the output host.
    expect(fake.requests.filter((r) => r.origin === 'cdn').every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('wavespeed: a 429 proves no task and is retried (one task); a lost answer or a 500 is ambiguous and never resent', async () => {
    const fake = await startFake();
    const provider = fakeSpeech(fake);
    fake.script('speech', { kind: 'status', status: 429 });
    await voice(provider, taskFor(provider), path.join(tmp('sp-out-'), 'a.wav'));
    expect(fake.routeCounts.speech).toBe(2);
    expect(fake.speechSubmissions).toHaveLength(1);

    fake.script('speech', { kind: 'lost-answer' });
    await expect(provider.submit(taskFor(provider))).rejects.toBeInstanceOf(AmbiguousSubmitError);
    fake.script('speech', { kind: 'status', status: 500 });
    await expect(provider.submit(taskFor(provider))).rejects.toMatchObject({ code: 'E_API' });
    expect(fake.routeCounts.speech).toBe(4); // neither was sent twice
    expect(fake.speechSubmissions).toHaveLength(2); // the lost answer's task exists (and will bill)
  });

  it('wavespeed: a failed speech task is a failed result with the provider words', async () => {
    const fake = await startFake();
    const provider = fakeSpeech(fake);
    fake.script('speech', { kind: 'fail', error: 'voice not found', code: 1401 });
    const task = taskFor(provider);
    const { predictionId } = await provider.submit(task);
    expect(await provider.wait(predictionId, task)).toMatchObject({ status: 'failed', error: expect.stringContaining('voice not found') });
    expect(fake.charges.size).toBe(0);
  });
});
