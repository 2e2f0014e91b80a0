/**
 * Bench: account tiers. The fake (in another process, one real 1 s clip as
 * every output) enforces an account level: starts per sliding "minute"
 * (429 + Retry-After past it) and tasks processing at once. Time is scaled:
 * a minute is MINUTE_MS of wall time for both the fake and duologue's
 * limiter, and a task processes for a third of it (InfiniteTalk's ~20 s per
 * video second of a 1 s scene, against a 60 s minute).
 *
 * - `silver`: 10,000 one-second scenes at Silver limits (500/min, 300 at
 *   once), `--tier silver` (so 300 in flight). Lower bound, from the rate
 *   limit: all 500-start windows but the last are full, then one task's
 *   processing: (ceil(N/500) − 1) × minute + processing (also ≥ N × processing
 *   ÷ 300). Targets: makespan ÷ lower bound ≤ 1.05, CPU < 2 ms per scene
 *   (manifest read to last clip), peak RSS < 300 MB.
 * - `bronze`: 5 scenes at Bronze limits (2/min, 2 at once), with `--tier
 *   bronze` and with `auto` starting at --concurrency 4. Target: 0 failed.
 *
 * Run: npm run bench -- silver bronze
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents } from '../../pipeline/events.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { accountWindowFor } from '../../pipeline/cache/submit-window.ts';
import { defaultConcurrency } from '../../pipeline/providers/wavespeed/pacer-for-tier.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { ACCOUNT_TIERS, type TierSetting } from '../../pipeline/providers/wavespeed/tiers.ts';
import { realSleep } from '../../pipeline/sleep.ts';
import { FAKE_LEVELS } from '../fakes/account-limits.ts';
import { cannedClip, oneSecondSeries } from '../helpers/canned.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { startFakeProcess } from './fake-process.ts';
import { scheduleOnCache } from './schedule-run.ts';

const KEY = 'bench-key';
const MINUTE_MS = Number(process.env.BENCH_MINUTE_MS ?? 6_000);
const PROCESSING_MS = Math.round(MINUTE_MS / 3);

interface Level {
  videosPerMinute: number;
  concurrent: number;
}

async function runAgainst(level: Level, scenes: number, tier: TierSetting, concurrency?: number) {
  const ffmpeg = resolveFfmpegPaths();
  const canned = await cannedClip();
  const fakeOptions = {
    apiKey: KEY,
    workDir: mkdtempSync(path.join(tmpdir(), 'dl-tier-fake-')),
    cannedOutput: canned,
    cannedSeconds: 1,
    msPerVideoSecond: PROCESSING_MS,
    maxConcurrent: level.concurrent,
    keepRequests: 100,
    accountLimits: { videosPerWindow: level.videosPerMinute, windowMs: MINUTE_MS, retryAfter: 'fraction' as const },
  };
  const fake = await startFakeProcess(fakeOptions);
  const apiUrl = fake.apiUrl;
  try {
    const { manifest } = tinyProject(oneSecondSeries(scenes, Math.min(10, scenes)));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-tier-cache-'));
    const store = await openStore({ dir: cacheDir });
    const info = PROVIDERS.wavespeed;
    const events = new RunEvents();
    let rateLimited = 0;
    events.on('event', (e) => {
      if (e.type === 'retry' && e.reason.startsWith('429')) rateLimited++;
    });
    const cpu0 = process.cpuUsage();
    const prepared = await prepare([manifest], { memo: store.files, ffmpeg, prices: info.prices });
    const p = plan({ ...prepared, provider: info });
    const rssAfterPlanMb = Math.round(process.memoryUsage().rss / 1048576);
    const cpuPlan = process.cpuUsage(cpu0);
    const n = concurrency ?? defaultConcurrency(tier, 4);
    // Looks scaled like the minute, and as many as a real scene gets (4–6, issue 18): the first at
    // a fifth of the processing time, then every fifth, so a task is looked at ~5 times before it is done.
    const look = Math.round(PROCESSING_MS / 5);
    const policy = { ...FAST_POLICY, rateWindowMs: MINUTE_MS, retryAfterMaxMs: MINUTE_MS * 2, firstPollPerVideoSecondMs: look, pollInitialMs: look, pollFactor: 1, pollMaxMs: look, deadlineBaseMs: 3_600_000 };
    let waits = 0;
    const provider = createWavespeedProvider({
      apiKey: KEY, baseUrl: apiUrl, ffmpeg, workDir: path.join(cacheDir, 'work'), uploads: store.uploads('wavespeed'), policy, tier, concurrency: n,
      // As `render` does on an on-disk cache: a known tier paced account-wide through the store.
      submitWindow: accountWindowFor({ dir: cacheDir, provider: 'wavespeed', apiKey: KEY }),
      // Counts the waits between looks at a task (each is followed by one look: the shared list or its own result).
      sleep: (ms, signal) => {
        if (ms === look) waits++;
        return realSleep(ms, signal);
      },
      onRetry: (r) => events.emitEvent({ type: 'retry', ...r }),
    });
    const t0 = performance.now();
    const result = await scheduleOnCache({ store, cacheDir, plan: p, provider, concurrency: n, events });
    const makespanMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await provider.close?.();
    await store.close();
    const served = (await fake.stats()).routeCounts;
    const count = (o: string) => result.scenes.filter((s) => s.outcome === o).length;
    const windows = Math.ceil(scenes / level.videosPerMinute);
    const lowerMs = Math.max((windows - 1) * MINUTE_MS + PROCESSING_MS, (scenes * PROCESSING_MS) / level.concurrent);
    return {
      rendered: count('rendered'),
      failed: count('failed'),
      rate_limited_429s: rateLimited,
      makespan_s: Number((makespanMs / 1000).toFixed(2)),
      lower_bound_s: Number((lowerMs / 1000).toFixed(2)),
      ratio: Number((makespanMs / lowerMs).toFixed(3)),
      looks_per_scene: Number((waits / scenes).toFixed(2)),
      requests_per_scene: Number((Object.values(served).reduce((a, b) => a + b, 0) / scenes).toFixed(2)),
      list_requests: served.list,
      result_requests: served.result,
      cpu_ms_per_scene: Number(((cpu.user + cpu.system) / 1000 / scenes).toFixed(2)),
      cpu_user_ms_per_scene: Number((cpu.user / 1000 / scenes).toFixed(2)),
      cpu_system_ms_per_scene: Number((cpu.system / 1000 / scenes).toFixed(2)),
      cpu_plan_ms_per_scene: Number(((cpuPlan.user + cpuPlan.system) / 1000 / scenes).toFixed(2)),
      rss_after_plan_mb: rssAfterPlanMb,
      rss_at_end_mb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    fake.stop();
  }
}

export async function benchSilver(): Promise<Record<string, string | number>> {
  const scenes = Number(process.env.BENCH_SCENES ?? 10_000);
  const r = await runAgainst(FAKE_LEVELS.silver, scenes, 'silver');
  return {
    scenes,
    minute_ms: MINUTE_MS,
    processing_ms: PROCESSING_MS,
    in_flight: ACCOUNT_TIERS.silver.concurrentTasks,
    ...r,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    target: 'ratio <= 1.05, cpu < 2 ms/scene, rss < 300 MB',
  };
}

export async function benchBronze(): Promise<Record<string, string | number>> {
  const tier = await runAgainst(FAKE_LEVELS.bronze, 5, 'bronze');
  const auto = await runAgainst(FAKE_LEVELS.bronze, 5, 'auto', 4);
  return {
    scenes: 5,
    minute_ms: MINUTE_MS,
    processing_ms: PROCESSING_MS,
    tier_failed: tier.failed,
    tier_429s: tier.rate_limited_429s,
    tier_makespan_s: tier.makespan_s,
    auto_failed: auto.failed,
    auto_429s: auto.rate_limited_429s,
    auto_makespan_s: auto.makespan_s,
    lower_bound_s: tier.lower_bound_s,
    target: '0 failed',
  };
}
