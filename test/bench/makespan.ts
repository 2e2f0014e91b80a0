/**
 * Bench: scheduler makespan. 500 scenes, lengths from a fixed-seed log-normal
 * clipped to 3–180 s, a simulated provider whose processing time is
 * proportional to length (20 s per video second, scaled), concurrency 8.
 * Reports makespan ÷ max(longest, total ÷ concurrency) for duologue's order
 * (longest first) and for first-in-first-out, in one run. Target ≤ 1.05.
 * Run: npm run bench -- makespan
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../../pipeline/cache/db.ts';
import { RenderStore } from '../../pipeline/cache/renders.ts';
import { RunLedger } from '../../pipeline/cache/runs.ts';
import { RunEvents } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { schedule } from '../../pipeline/schedule.ts';
import { mulberry32 } from '../fakes/wavespeed-server.ts';
import { episode, media, ref, scene, series } from '../helpers/series.ts';

const SCENES = 500;
const CONCURRENCY = 8;
/** Wall milliseconds per simulated video second (20 s of processing per video second, scaled ~1/1700). */
const MS_PER_VIDEO_SECOND = 12;

function lengths(): number[] {
  const rng = mulberry32(42);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Array.from({ length: SCENES }, () => Math.round(Math.min(180, Math.max(3, Math.exp(Math.log(20) + 0.9 * normal()))) * 1000) / 1000);
}

function simulatedProvider(dir: string): Provider {
  let n = 0;
  return {
    info: PROVIDERS.wavespeed,
    submit: async () => ({ predictionId: `sim-${++n}` }),
    poll: async () => ({ status: 'processing' }),
    wait: async (_id, task) => {
      await new Promise((r) => setTimeout(r, task.videoSeconds * MS_PER_VIDEO_SECOND));
      return { status: 'completed', outputUrl: 'sim://clip' };
    },
    download: async (_r, task, dest) => {
      const file = path.join(dir, `${task.key}.mp4`);
      writeFileSync(file, task.key);
      return { path: file, bytes: task.key.length, durationSeconds: task.videoSeconds };
    },
    estimateUsd: () => 0,
  };
}

async function run(order: 'longest-first' | 'fifo', lens: number[]) {
  const m = media(Object.fromEntries(lens.map((l, i) => [`a${i}`, Math.round(l * 1000)])));
  const scenes = lens.map((_, i) => scene('e', `s${i}`, { audio: { form: 'pair', left: ref(`a${i}`) }, seed: { kind: 'fixed', value: i } }));
  const p = plan({ series: series([episode('e', scenes)]), media: m, provider: PROVIDERS.wavespeed });
  const db = openDb(':memory:');
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-makespan-'));
  const t0 = performance.now();
  await schedule({
    plan: p,
    provider: simulatedProvider(dir),
    store: new RenderStore(db, 'bench:1:x'),
    ledger: new RunLedger(db),
    runId: new RunLedger(db).start({ provider: 'sim', args: [], plannedUsd: 0 }),
    events: new RunEvents(),
    clipsDir: dir,
    concurrency: CONCURRENCY,
    order,
  });
  const makespan = (performance.now() - t0) / MS_PER_VIDEO_SECOND; // in simulated video-seconds of work
  db.close();
  return makespan;
}

export async function benchMakespan(): Promise<Record<string, string | number>> {
  const lens = lengths();
  const total = lens.reduce((a, b) => a + b, 0);
  const lower = Math.max(Math.max(...lens), total / CONCURRENCY);
  const lpt = await run('longest-first', lens);
  const fifo = await run('fifo', lens);
  return {
    scenes: SCENES,
    concurrency: CONCURRENCY,
    video_seconds: Math.round(total),
    longest_s: Math.max(...lens),
    lower_bound: Number(lower.toFixed(1)),
    duologue_ratio: Number((lpt / lower).toFixed(3)),
    fifo_ratio: Number((fifo / lower).toFixed(3)),
    target: 'duologue_ratio <= 1.05',
  };
}
