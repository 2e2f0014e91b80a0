/**
 * Bench: duologue's own CPU per scene, provider time excluded, over 5,000
 * scenes against the fake server (in another process, serving one real 1 s
 * clip as every output), and the peak RSS of that run. Targets: < 2 ms CPU
 * per scene, < 250 MB RSS. Run: npm run bench -- overhead
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../../pipeline/cache/db.ts';
import { newOwnerId } from '../../pipeline/cache/owner.ts';
import { RenderStore } from '../../pipeline/cache/renders.ts';
import { RunLedger } from '../../pipeline/cache/runs.ts';
import { createUploadMemo } from '../../pipeline/cache/uploads.ts';
import { RunEvents } from '../../pipeline/events.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan } from '../../pipeline/plan.ts';
import { prepare } from '../../pipeline/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { schedule } from '../../pipeline/schedule.ts';
import { cannedClip, oneSecondSeries } from '../helpers/canned.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const SCENES = Number(process.env.BENCH_SCENES ?? 5_000);
const KEY = 'bench-key';

export async function benchOverhead(): Promise<Record<string, string | number>> {
  const ffmpeg = resolveFfmpegPaths();
  const canned = await cannedClip();
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../fakes/serve.mts'), JSON.stringify({ apiKey: KEY, workDir: mkdtempSync(path.join(tmpdir(), 'dl-oh-fake-')), cannedOutput: canned, cannedSeconds: 1, msPerVideoSecond: 1, maxConcurrent: 64, keepRequests: 100 })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { apiUrl } = await new Promise<{ apiUrl: string }>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))));
  try {
    const { manifest } = tinyProject(oneSecondSeries(SCENES, 10));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-oh-cache-'));
    const db = openDb(cacheDir);
    const info = PROVIDERS.wavespeed;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const prepared = await prepare([manifest], { db, ffmpeg, prices: info.prices });
    const p = plan({ ...prepared, provider: info });
    const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: apiUrl, ffmpeg, workDir: path.join(cacheDir, 'work'), uploads: createUploadMemo(db, 'wavespeed'), policy: { ...FAST_POLICY, pollInitialMs: 2, pollMaxMs: 5 } });
    const ledger = new RunLedger(db);
    const result = await schedule({
      plan: p,
      provider,
      store: new RenderStore(db, newOwnerId()),
      ledger,
      runId: ledger.start({ provider: 'wavespeed', args: [], plannedUsd: p.totals.costUsd }),
      events: new RunEvents(),
      clipsDir: path.join(cacheDir, 'clips'),
      concurrency: 8,
    });
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await provider.close?.();
    db.close();
    const rendered = result.scenes.filter((s) => s.outcome === 'rendered').length;
    if (rendered !== SCENES) throw new Error(`expected ${SCENES} rendered, got ${rendered}`);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      scenes: SCENES,
      wall_s: Number(wall.toFixed(1)),
      cpu_ms_per_scene: Number((cpuMs / SCENES).toFixed(2)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      target: 'cpu < 2 ms/scene, rss < 250 MB',
    };
  } finally {
    server.kill('SIGTERM');
  }
}
