/**
 * One contract, every provider (unstorage-style): the same scenes through the
 * local renderer and through WaveSpeed against the fake server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { estimate } from '../../pipeline/cost/estimate.ts';
import { ffprobe, resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const KEY = 'sk-contract-0123456789abcdef';

interface Subject {
  name: string;
  /**
   * What the cost rules (DESIGN.md "Cost") say each scene costs, worked by hand:
   * the tiny project's three scenes (3.5 s, 2.5 s, 2.5 s at 720p), then the
   * first scene stretched to 6.11 s (left_right 2.976 + 3.134) at 480p and
   * 720p, and to exactly 10 s (5 + 5) at 480p.
   */
  expectedUsd: { tiny: number[]; stretched: [number, number, number] };
  make: () => Promise<{ provider: Provider; done: () => Promise<void> }>;
}

const subjects: Subject[] = [
  {
    name: 'local',
    expectedUsd: { tiny: [0, 0, 0], stretched: [0, 0, 0] }, // the local preview is free
    make: async () => {
      const provider = createLocalProvider({ workDir: mkdtempSync(path.join(tmpdir(), 'duologue-local-')), ffmpeg });
      return { provider, done: async () => provider.close?.() };
    },
  },
  {
    name: 'wavespeed (fake server)',
    // Minimum 5 s: 3.5 s and 2.5 s bill 5 s → $0.15 at 480p, $0.30 at 720p.
    // 6.11 s bills ceil = 7 s → 7 × $0.03 = $0.21, 7 × $0.06 = $0.42; 10 s bills 10 s → $0.30.
    expectedUsd: { tiny: [0.15, 0.15, 0.3], stretched: [0.21, 0.42, 0.3] },
    make: async () => {
      const fake = await new FakeWavespeed({ apiKey: KEY, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'duologue-fake-')), msPerVideoSecond: 5 }).start();
      const provider = createWavespeedProvider({
        apiKey: KEY,
        baseUrl: fake.apiUrl,
        ffmpeg,
        workDir: mkdtempSync(path.join(tmpdir(), 'duologue-ws-')),
        uploads: createMemoryUploadMemo(),
        policy: FAST_POLICY,
      });
      return {
        provider,
        done: async () => {
          await provider.close?.();
          await fake.stop();
        },
      };
    },
  },
];

for (const subject of subjects) {
  describe(`provider contract: ${subject.name}`, () => {
    let provider: Provider;
    let done: () => Promise<void>;
    let tasks: PlannedScene[];
    const out = mkdtempSync(path.join(tmpdir(), 'duologue-clips-'));

    beforeAll(async () => {
      ({ provider, done } = await subject.make());
      tasks = await plannedTasks(tinyProject().manifest, provider.info.id as 'local' | 'wavespeed');
    });
    afterAll(async () => done());

    it('renders every scene form to an mp4 of the planned length, with video and audio', async () => {
      const clips = await Promise.all(
        tasks.map(async (task) => {
          const { predictionId } = await provider.submit(task);
          expect(predictionId).toMatch(/\S/);
          const result = await provider.wait(predictionId, task);
          expect(result).toMatchObject({ status: 'completed' });
          return provider.download(result, task, path.join(out, `${task.sceneId}.mp4`));
        }),
      );
      for (const [i, clip] of clips.entries()) {
        expect(clip.durationSeconds).toBeCloseTo(tasks[i].videoSeconds, 1);
        const probe = await ffprobe(clip.path, ffmpeg);
        const video = probe.streams.find((s) => s.codec_type === 'video')!;
        expect(video).toMatchObject({ codec_name: 'h264', r_frame_rate: '25/1' });
        expect(probe.streams.some((s) => s.codec_type === 'audio')).toBe(true);
        // ±1 frame of the cost rules' video seconds.
        expect(Math.abs(Number(video.duration) - tasks[i].videoSeconds)).toBeLessThanOrEqual(0.04 + 1e-9);
      }
      expect(tasks.map((t) => t.videoSeconds)).toEqual([3.5, 2.5, 2.5]);
    });

    it('a completed prediction polls as completed again (resume after a restart)', async () => {
      const task = tasks[0];
      const { predictionId } = await provider.submit(task);
      await provider.wait(predictionId, task);
      expect((await provider.poll(predictionId, task)).status).toBe('completed');
    });

    it("estimates cost by the cost rules at the provider's prices, and the plan agrees", () => {
      const byRules = (t: PlannedScene) => estimate(t.order, t.tracks.left.durationMs, t.tracks.right.durationMs, t.resolution, provider.info.prices).costUsd;
      expect(tasks.map(byRules)).toEqual(subject.expectedUsd.tiny);
      expect(tasks.map((t) => t.estimateUsd)).toEqual(subject.expectedUsd.tiny);
      const stretch = (leftMs: number, rightMs: number, resolution: '480p' | '720p'): PlannedScene => ({
        ...tasks[0],
        order: 'left_right',
        resolution,
        tracks: { left: { ...tasks[0].tracks.left, durationMs: leftMs }, right: { ...tasks[0].tracks.right, durationMs: rightMs } },
      });
      const stretched = [stretch(2_976, 3_134, '480p'), stretch(2_976, 3_134, '720p'), stretch(5_000, 5_000, '480p')];
      expect(stretched.map(byRules)).toEqual(subject.expectedUsd.stretched);
    });

    it('an aborted signal stops a submit with E_ABORTED', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(provider.submit(tasks[0], { signal: controller.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    });
  });
}
