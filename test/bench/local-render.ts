/**
 * Bench: the local preview renderer on a 30 s, 480p meanwhile scene.
 * Target: well under real time on 2 cores. Run: npm run bench -- local
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import { plannedTasks } from '../helpers/tasks.ts';

export async function benchLocalRender(): Promise<Record<string, string | number>> {
  const ffmpeg = resolveFfmpegPaths();
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-local-'));
  for (const [name, f] of [['l.wav', 220], ['r.wav', 330]] as const) {
    await runFfmpeg(['-f', 'lavfi', '-i', `sine=frequency=${f}:sample_rate=16000:duration=30`, '-ac', '1', path.join(dir, name)], ffmpeg);
  }
  copyFileSync(path.join(import.meta.dirname, '../../manifests/demo/images/kitchen.png'), path.join(dir, 'k.png'));
  writeFileSync(path.join(dir, 'm.yaml'), 'version: 1\nepisodes:\n  - id: e\n    scenes:\n      - { id: s, image: k.png, left: l.wav, right: r.wav, resolution: 480p }\n');
  const [task] = await plannedTasks(path.join(dir, 'm.yaml'), 'local');
  const provider = createLocalProvider({ workDir: path.join(dir, 'work'), ffmpeg });
  const t0 = performance.now();
  const { predictionId } = await provider.submit(task);
  const result = await provider.wait(predictionId, task);
  await provider.download(result, task, path.join(dir, 'out.mp4'));
  const seconds = (performance.now() - t0) / 1000;
  return { video_seconds: task.videoSeconds, wall_seconds: Number(seconds.toFixed(2)), realtime_factor: Number((seconds / task.videoSeconds).toFixed(3)), target: 'well under 1.0' };
}
