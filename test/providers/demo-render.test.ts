/** The demo's scenes through both providers: real clips of the planned lengths. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { render } from '../../pipeline/run/render.ts';
import { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { until } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const demo = path.join(import.meta.dirname, '../../manifests/demo/kitchen-talk.yaml');
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));

async function renderAll(provider: Provider, id: 'local' | 'wavespeed') {
  const tasks = await plannedTasks(demo, id);
  const out = tmp('dl-demo-out-');
  const clips = await Promise.all(
    tasks.map(async (task) => {
      const { predictionId } = await provider.submit(task);
      const result = await provider.wait(predictionId, task);
      return provider.download(result, task, path.join(out, `${task.episodeId}-${task.sceneId}.mp4`));
    }),
  );
  return tasks.map((t, i) => [t.sceneId, t.videoSeconds, clips[i].durationSeconds] as const);
}

describe('demo scenes', () => {
  it('render locally at the planned lengths', async () => {
    const provider = createLocalProvider({ workDir: tmp('dl-demo-local-'), ffmpeg });
    for (const [, planned, got] of await renderAll(provider, 'local')) expect(Math.abs(got - planned)).toBeLessThanOrEqual(0.05);
  });

  it('render through WaveSpeed (fake server) at the planned lengths', async () => {
    const fake = await new FakeWavespeed({ apiKey: 'k-demo', ffmpeg, workDir: tmp('dl-demo-fake-'), msPerVideoSecond: 2 }).start();
    const provider = createWavespeedProvider({ apiKey: 'k-demo', baseUrl: fake.apiUrl, ffmpeg, workDir: tmp('dl-demo-ws-'), uploads: createMemoryUploadMemo(), policy: FAST_POLICY });
    try {
      const rows = await renderAll(provider, 'wavespeed');
      expect(rows.map(([id]) => id)).toEqual(['cold-open', 'coffee', 'welcome', 'sourdough']);
      for (const [, planned, got] of rows) expect(Math.abs(got - planned)).toBeLessThanOrEqual(0.05);
      expect(fake.submissions).toHaveLength(4);
    } finally {
      await provider.close?.();
      await fake.stop();
    }
  });

  it('--concurrency 2 bounds the predictions open at the provider at once, and reaches it (the fake would take 10)', async () => {
    const N = 2;
    const fake = await new FakeWavespeed({ apiKey: 'k-demo', ffmpeg, workDir: tmp('dl-demo-fake-'), msPerVideoSecond: 2, maxConcurrent: 10 }).start();
    const cacheDir = tmp('dl-demo-cache-');
    try {
      // Nothing finishes until N are open: the bound is met, not just never exceeded by a run too quick to overlap.
      fake.hold();
      const run = render([demo], { provider: 'wavespeed', apiKey: 'k-demo', baseUrl: fake.apiUrl, cacheDir, outDir: path.join(cacheDir, 'out'), policy: FAST_POLICY, waitPollMs: 20, report: false, concurrency: N });
      await until(() => fake.openPredictions >= N, `${N} predictions open`);
      fake.release();
      const { schedule } = await run;
      expect(schedule.scenes.map((s) => s.outcome)).toEqual(['rendered', 'rendered', 'rendered', 'rendered']);
      expect(fake.submissions).toHaveLength(4);
      expect(fake.peakOpen).toBe(N);
    } finally {
      await fake.stop();
    }
  });
});
