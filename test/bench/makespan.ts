/**
 * Bench: scheduler makespan, duologue's order (longest expected processing
 * first) against first-in-first-out, through the real scheduler (SQLite
 * claims and ledger included) and a simulated provider whose processing time
 * is proportional to length (20 s per video second, scaled), concurrency 8.
 * Two cases:
 * - `lognormal`: 500 scenes, lengths from a fixed-seed log-normal (median
 *   20 s, σ 0.9) clipped to 3–180 s;
 * - `long-late`: 120 short scenes (median 12 s, σ 0.6, 3–60 s), then 4 long
 *   ones (165–180 s) last in the manifest: the case longest-first is for.
 * The orders alternate (A B A B …), BENCH_REPEATS times each (default 3);
 * reported as makespan ÷ max(longest, total ÷ concurrency), median and
 * min–max. Target: duologue's median ≤ 1.05.
 * Run: npm run bench -- makespan
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { schedule } from '../../pipeline/schedule/index.ts';
import { mulberry32 } from '../fakes/wavespeed-server.ts';
import { episode, media, ref, scene, series } from '../helpers/series.ts';
import { table, type BenchResult } from './markdown.ts';
import { repeats, sized } from './options.ts';
import { roundSummary, showSummary, summarize, type Summary } from './stats.ts';

const CONCURRENCY = 8;
/** Wall milliseconds per simulated video second (20 s of processing per video second, scaled ~1/1700). */
const MS_PER_VIDEO_SECOND = 12;
type Order = 'longest-first' | 'fifo';

/** n lengths from a fixed-seed log-normal, clipped, in ms precision. */
function logNormal(seed: number, n: number, medianS: number, sigma: number, minS: number, maxS: number): number[] {
  const rng = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Array.from({ length: n }, () => Math.round(Math.min(maxS, Math.max(minS, Math.exp(Math.log(medianS) + sigma * normal()))) * 1000) / 1000);
}

export const CASES: Record<string, () => number[]> = {
  lognormal: () => logNormal(42, sized(500, 60), 20, 0.9, 3, 180),
  'long-late': () => {
    const longs = sized([172.4, 180, 165.2, 177.8], [172.4, 180]);
    return [...logNormal(7, sized(120, 30), 12, 0.6, 3, 60), ...longs];
  },
};

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
    download: async (_r, task) => {
      const file = path.join(dir, `${task.key}.mp4`);
      writeFileSync(file, task.key);
      return { path: file, bytes: task.key.length, durationSeconds: task.videoSeconds };
    },
  };
}

/** One run's makespan, in simulated video-seconds of work. */
async function run(order: Order, lens: number[]): Promise<number> {
  const m = media(Object.fromEntries(lens.map((l, i) => [`a${i}`, Math.round(l * 1000)])));
  const scenes = lens.map((_, i) => scene('e', `s${i}`, { audio: { form: 'pair', left: ref(`a${i}`) }, seed: { kind: 'fixed', value: i } }));
  const p = plan({ series: series([episode('e', scenes)]), media: m, provider: PROVIDERS.wavespeed });
  const store = await openStore({ dir: ':memory:', owner: 'bench:1:x' });
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-makespan-'));
  const t0 = performance.now();
  await schedule({
    plan: p,
    provider: simulatedProvider(dir),
    store,
    runId: await store.ledger.start({ provider: 'sim', args: [], plannedUsd: 0 }),
    events: new RunEvents(),
    clipsDir: dir,
    concurrency: CONCURRENCY,
    order,
  });
  const makespan = (performance.now() - t0) / MS_PER_VIDEO_SECOND;
  await store.close();
  return makespan;
}

interface CaseResult {
  scenes: number;
  video_seconds: number;
  longest_s: number;
  lower_bound: number;
  duologue_ratio: Summary;
  fifo_ratio: Summary;
}

async function measureCase(lens: number[]): Promise<CaseResult> {
  const total = lens.reduce((a, b) => a + b, 0);
  const lower = Math.max(Math.max(...lens), total / CONCURRENCY);
  const ratios: Record<Order, number[]> = { 'longest-first': [], fifo: [] };
  // Alternating, so a slow stretch of a shared machine lands on both orders alike.
  for (let i = 0; i < repeats(); i++) {
    for (const order of ['longest-first', 'fifo'] as const) ratios[order].push((await run(order, lens)) / lower);
  }
  return {
    scenes: lens.length,
    video_seconds: Math.round(total),
    longest_s: Math.max(...lens),
    lower_bound: Number(lower.toFixed(1)),
    duologue_ratio: roundSummary(summarize(ratios['longest-first']), 3),
    fifo_ratio: roundSummary(summarize(ratios.fifo), 3),
  };
}

export async function benchMakespan(): Promise<BenchResult> {
  const cases: Record<string, CaseResult> = {};
  for (const [name, lengths] of Object.entries(CASES)) cases[name] = await measureCase(lengths());
  return { concurrency: CONCURRENCY, repeats: repeats(), cases, target: 'duologue_ratio median <= 1.05' };
}

export function makespanMarkdown(r: BenchResult): string {
  const cases = r.cases as Record<string, CaseResult>;
  const rows = Object.entries(cases).map(([name, c]) => [
    `\`${name}\``,
    c.scenes,
    c.video_seconds.toLocaleString('en-US'),
    c.longest_s,
    c.lower_bound.toLocaleString('en-US'),
    showSummary(c.duologue_ratio, 3),
    showSummary(c.fifo_ratio, 3),
  ]);
  return `Concurrency ${r.concurrency}, ${r.repeats} runs per order, alternating; makespan ÷ lower bound, median (min–max):\n\n${table(
    ['case', 'scenes', 'video s', 'longest s', 'lower bound s', 'duologue (longest first)', 'FIFO (manifest order)'],
    rows,
  )}`;
}
