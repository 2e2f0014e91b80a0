/**
 * Bench: money over a 3-night scenario — render, change 5% of the line
 * audio, render, render — measured by what the fake WaveSpeed bills (its own
 * charge rule, test/fakes/wavespeed-server.ts), for duologue (one cache kept
 * across nights) and for a naive loop that re-renders everything each night
 * (the same command with an empty cache every night). WaveSpeed prices.
 * Run: npm run bench -- cost
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { render } from '../../pipeline/run/render.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { ffmpeg, KEY, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { table, type BenchResult } from './markdown.ts';
import { sized } from './options.ts';

const NIGHTS = 3;

interface Night {
  /** What the fake billed during the run. */
  billedUsd: number;
  /** What duologue's ledger says it spent (a check against the bill). */
  spentUsd: number;
  rendered: number;
}

/** One `render` of the manifest with this cache; the bill is the fake's charge total before and after. */
async function night(fake: FakeWavespeed, manifest: string, cacheDir: string): Promise<Night> {
  const before = fake.chargedUsd;
  const r = await render([manifest], { provider: 'wavespeed', apiKey: KEY, baseUrl: fake.apiUrl, cacheDir, outDir: path.join(cacheDir, 'out'), policy: FAST_POLICY, report: false });
  const failed = r.schedule.scenes.filter((s) => s.outcome !== 'rendered' && s.outcome !== 'cached');
  if (failed.length > 0) throw new Error(`nightly-cost: ${failed.length} scenes neither rendered nor cached`);
  return { billedUsd: round(fake.chargedUsd - before), spentUsd: round(r.schedule.spentUsd), rendered: r.schedule.scenes.filter((s) => s.outcome === 'rendered').length };
}

export async function benchNightlyCost(): Promise<BenchResult> {
  const lines = sized(20, 4);
  const scenes = sized(40, 8);
  const fake = await startFake({ msPerVideoSecond: 2, maxConcurrent: 4 });
  try {
    const yaml = ['version: 1', 'defaults: { image: two-people.png }', 'episodes:'];
    for (let e = 0; e < 4; e++) {
      yaml.push(`  - id: ep${e}`, '    scenes:');
      for (let s = 0; s < scenes / 4; s++) {
        const n = e * (scenes / 4) + s;
        yaml.push(`      - { id: s${s}, lines: [{ left: line${n % lines}.wav }, { right: line${(n * 7 + 3) % lines}.wav, pause: 0.3 }] }`);
      }
    }
    const { dir, manifest } = tinyProject(`${yaml.join('\n')}\n`);
    for (let i = 0; i < lines; i++) {
      await runFfmpeg(['-f', 'lavfi', '-i', `sine=frequency=${200 + i * 23}:sample_rate=16000:duration=${(1 + (i % 5) * 0.4).toFixed(1)}`, '-ac', '1', path.join(dir, `line${i}.wav`)], ffmpeg);
    }
    const kept = mkdtempSync(path.join(tmpdir(), 'duologue-bench-cost-'));
    const duologue: Night[] = [];
    const naive: Night[] = [];
    for (let n = 0; n < NIGHTS; n++) {
      // 1 of 20 line files = 5% of the lines re-recorded, between nights 1 and 2.
      if (n === 1) appendFileSync(path.join(dir, 'line0.wav'), Buffer.alloc(2));
      duologue.push(await night(fake, manifest, kept));
      naive.push(await night(fake, manifest, mkdtempSync(path.join(tmpdir(), 'duologue-bench-cost-naive-'))));
    }
    const total = (xs: Night[]) => round(xs.reduce((a, x) => a + x.billedUsd, 0));
    return {
      scenes,
      line_files: lines,
      nights: duologue.map((d, i) => ({ duologue_billed_usd: d.billedUsd, duologue_ledger_usd: d.spentUsd, duologue_rendered: d.rendered, naive_billed_usd: naive[i].billedUsd, naive_rendered: naive[i].rendered })),
      duologue_total_usd: total(duologue),
      naive_total_usd: total(naive),
      saved_pct: Math.round((1 - total(duologue) / total(naive)) * 100),
    };
  } finally {
    await fake.stop();
  }
}

export function nightlyCostMarkdown(r: BenchResult): string {
  const nights = r.nights as { duologue_billed_usd: number; duologue_ledger_usd: number; duologue_rendered: number; naive_billed_usd: number; naive_rendered: number }[];
  const ledger = nights.every((n) => n.duologue_ledger_usd === n.duologue_billed_usd) ? "duologue's ledger agreed with the bill every night" : `duologue's ledger: ${nights.map((n) => `$${n.duologue_ledger_usd}`).join(', ')} — **not the bill**`;
  const usd = (x: number) => `$${x.toFixed(2)}`;
  const rows = nights.map((n, i) => [i + 1, `${usd(n.duologue_billed_usd)} (${n.duologue_rendered} scenes)`, `${usd(n.naive_billed_usd)} (${n.naive_rendered} scenes)`]);
  rows.push(['total', `**${usd(r.duologue_total_usd as number)}**`, usd(r.naive_total_usd as number)]);
  return `${r.scenes} scenes; billed by the fake WaveSpeed; ${r.saved_pct}% saved; ${ledger}:\n\n${table(['night', 'duologue (one cache)', 'naive (empty cache each night)'], rows)}`;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
