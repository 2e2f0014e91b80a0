/**
 * Bench: duologue's own CPU per scene, provider time excluded, over 5,000
 * scenes against the fake server (in another process, serving one real 1 s
 * clip as every output), and the peak RSS of that run. Looks are realistic:
 * the client's real poll schedule (DEFAULT_POLICY) scaled 1/200, and the
 * fake's processing set between its 4th and 5th look, so each scene is
 * looked at 5 times as a real scene is 4–6 times (~41 s of processing for a
 * 1 s scene against looks at 10, 15, 22.5, 33.75, 48.75 s). Looks at tasks
 * in flight share the prediction list; the status requests the fake served
 * are counted and printed. Targets: < 2 ms CPU per scene, < 250 MB RSS.
 * Run: npm run bench -- overhead (BENCH_SCENES=n for another size)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../pipeline/cache/store.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { scaledPolicy, type WavespeedPolicy } from '../../pipeline/providers/wavespeed/policy.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { cannedClip, oneSecondSeries } from '../helpers/canned.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { startFakeProcess } from './fake-process.ts';
import { scheduleOnCache } from './schedule-run.ts';
import { table, type BenchResult } from './markdown.ts';
import { sized } from './options.ts';
import { processingForPolls } from './poll-schedule.ts';

const KEY = 'bench-key';
/** Real poll delays ÷ 200: a 5,000-scene run takes about a minute at concurrency 8. */
const TIME_SCALE = 200;
export const OVERHEAD_POLICY: WavespeedPolicy = { ...scaledPolicy(1 / TIME_SCALE), deadlineBaseMs: 3_600_000 };
const POLLS = 5;

export async function benchOverhead(): Promise<BenchResult> {
  const scenes = Number(process.env.BENCH_SCENES ?? sized(5_000, 200));
  const processingMs = processingForPolls(OVERHEAD_POLICY, POLLS);
  const ffmpeg = resolveFfmpegPaths();
  const canned = await cannedClip();
  const fake = await startFakeProcess({ apiKey: KEY, workDir: mkdtempSync(path.join(tmpdir(), 'dl-oh-fake-')), cannedOutput: canned, cannedSeconds: 1, msPerVideoSecond: processingMs, maxConcurrent: 64, keepRequests: 100 });
  try {
    const { manifest } = tinyProject(oneSecondSeries(scenes, 10));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-oh-cache-'));
    const store = await openStore({ dir: cacheDir });
    const info = PROVIDERS.wavespeed;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const prepared = await prepare([manifest], { memo: store.files, ffmpeg, prices: info.prices });
    const p = plan({ ...prepared, provider: info });
    const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: path.join(cacheDir, 'work'), uploads: store.uploads('wavespeed'), policy: OVERHEAD_POLICY });
    const result = await scheduleOnCache({ store, cacheDir, plan: p, provider, concurrency: 8 });
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await provider.close?.();
    await store.close();
    const rendered = result.scenes.filter((s) => s.outcome === 'rendered').length;
    if (rendered !== scenes) throw new Error(`expected ${scenes} rendered, got ${rendered}`);
    const served = await fake.stats();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      scenes,
      wall_s: Number(wall.toFixed(1)),
      fake_processing_ms: processingMs,
      first_poll_ms: OVERHEAD_POLICY.firstPollPerVideoSecondMs,
      looks_per_scene: POLLS,
      // A look is one shared list request for every task in flight; a task's own result is asked for once it shows done.
      status_requests_per_scene: Number(((served.routeCounts.result + served.routeCounts.list) / scenes).toFixed(2)),
      result_requests_per_scene: Number((served.routeCounts.result / scenes).toFixed(2)),
      submits_per_scene: Number((served.routeCounts.submit / scenes).toFixed(2)),
      cpu_ms_per_scene: Number((cpuMs / scenes).toFixed(2)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      target: 'cpu < 2 ms/scene, rss < 250 MB',
    };
  } finally {
    fake.stop();
  }
}

export function overheadMarkdown(r: BenchResult): string {
  return `${(r.scenes as number).toLocaleString('en-US')} one-second scenes, concurrency 8; the fake processes each for ${r.fake_processing_ms} ms, the client first looks after ${r.first_poll_ms} ms (real poll schedule ÷ ${TIME_SCALE}):\n\n${table(
    ['looks / scene', 'status requests / scene (list + result, counted by the fake)', 'CPU per scene', 'peak RSS', 'wall'],
    [[r.looks_per_scene as number, r.status_requests_per_scene as number, `${r.cpu_ms_per_scene} ms`, `${r.peak_rss_mb} MB`, `${r.wall_s} s`]],
  )}`;
}
