/** A WaveSpeed provider pointed at a fresh fake server, for provider-level tests; both are closed after each test. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import { createWavespeedProvider, type WavespeedOptions } from '../../pipeline/providers/wavespeed/provider.ts';
import type { FakeOptions, FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, ffmpeg, startFake } from './engine.ts';
import { FAST_POLICY } from './fast-policy.ts';

export function fakeProviders() {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((f) => f()));
  });
  return async (fakeOptions: Partial<FakeOptions> = {}, providerOptions: Partial<WavespeedOptions> = {}) => {
    const fake: FakeWavespeed = await startFake(fakeOptions);
    const provider = createWavespeedProvider({
      apiKey: KEY,
      baseUrl: fake.apiUrl,
      ffmpeg,
      workDir: mkdtempSync(path.join(tmpdir(), 'dl-ws-')),
      uploads: createMemoryUploadMemo(),
      policy: FAST_POLICY,
      // Backoff is recorded by the policy's small numbers, not waited for long.
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
      ...providerOptions,
    });
    cleanups.push(async () => {
      await provider.close?.();
      await fake.stop();
    });
    const out = mkdtempSync(path.join(tmpdir(), 'dl-out-'));
    /** Submit, wait, download: the clip, or the failed result. */
    const render = async (task: PlannedScene) => {
      const { predictionId } = await provider.submit(task);
      const result = await provider.wait(predictionId, task);
      if (result.status !== 'completed') return { predictionId, result };
      return { predictionId, result, clip: await provider.download(result, task, path.join(out, `${task.sceneId}.mp4`)) };
    };
    return { fake, provider, render, out };
  };
}
