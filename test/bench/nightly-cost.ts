/**
 * Bench: money over a 3-night scenario — render, change 5% of the line
 * audio, render, render — measured by what the fake WaveSpeed bills (its own
 * charge rule, test/fakes/wavespeed-server.ts), for duologue (one cache kept
 * across nights) and for a naive loop that re-renders everything each night
 * (the same command with an empty cache every night). WaveSpeed prices.
 * Then the same nights on line recordings with room tone at their ends
 * (0.3 s before, 0.4 s after, at -60 dBFS), duologue with and without
 * `trim: edges` (issue 16), each with the cache it keeps across nights.
 * Run: npm run bench -- cost
 */
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
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
  /** The plan's from-scratch split: what of the bill paid for nobody speaking. */
  wasteUsd: number;
}

/** One `render` of the manifest with this cache; the bill is the fake's charge total before and after. */
async function night(fake: FakeWavespeed, manifest: string, cacheDir: string): Promise<Night> {
  const before = fake.chargedUsd;
  const r = await render([manifest], { provider: 'wavespeed', apiKey: KEY, baseUrl: fake.apiUrl, cacheDir, outDir: path.join(cacheDir, 'out'), policy: FAST_POLICY, report: false });
  const failed = r.schedule.scenes.filter((s) => s.outcome !== 'rendered' && s.outcome !== 'cached');
  if (failed.length > 0) throw new Error(`nightly-cost: ${failed.length} scenes neither rendered nor cached`);
  return {
    billedUsd: round(fake.chargedUsd - before),
    spentUsd: round(r.schedule.spentUsd),
    rendered: r.schedule.scenes.filter((s) => s.outcome === 'rendered').length,
    wasteUsd: r.plan.totals.waste.usd.wasteUsd,
  };
}

export async function benchNightlyCost(): Promise<BenchResult> {
  const lines = sized(20, 4);
  const scenes = sized(40, 8);
  const fake = await startFake({ msPerVideoSecond: 2, maxConcurrent: 4 });
  try {
    const { dir, manifest } = tinyProject(manifestYaml(lines, scenes, ''));
    for (let i = 0; i < lines; i++) {
      await runFfmpeg(['-f', 'lavfi', '-i', `sine=frequency=${200 + i * 23}:sample_rate=16000:duration=${lineSeconds(i)}`, '-ac', '1', path.join(dir, `line${i}.wav`)], ffmpeg);
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
    const roomTone = await trimNights(fake, lines, scenes);
    return {
      scenes,
      line_files: lines,
      nights: duologue.map((d, i) => ({ duologue_billed_usd: d.billedUsd, duologue_ledger_usd: d.spentUsd, duologue_rendered: d.rendered, naive_billed_usd: naive[i].billedUsd, naive_rendered: naive[i].rendered })),
      duologue_total_usd: total(duologue),
      naive_total_usd: total(naive),
      saved_pct: Math.round((1 - total(duologue) / total(naive)) * 100),
      room_tone: {
        nights: roomTone.whole.map((w, i) => ({ whole_billed_usd: w.billedUsd, whole_rendered: w.rendered, trimmed_billed_usd: roomTone.trimmed[i].billedUsd, trimmed_rendered: roomTone.trimmed[i].rendered })),
        whole_total_usd: total(roomTone.whole),
        trimmed_total_usd: total(roomTone.trimmed),
        /** The plans' from-scratch "paid for nothing" figure, without and with the trim. */
        whole_waste_usd: roomTone.whole[0].wasteUsd,
        trimmed_waste_usd: roomTone.trimmed[0].wasteUsd,
        saved_pct: Math.round((1 - total(roomTone.trimmed) / total(roomTone.whole)) * 100),
      },
    };
  } finally {
    await fake.stop();
  }
}

const lineSeconds = (i: number) => (1 + (i % 5) * 0.4).toFixed(1);

/** 4 episodes of two-line dialogue scenes drawn from the pool of line files; `defaults` adds scene settings. */
function manifestYaml(lines: number, scenes: number, defaults: string): string {
  const yaml = ['version: 1', `defaults: { image: two-people.png${defaults} }`, 'episodes:'];
  for (let e = 0; e < 4; e++) {
    yaml.push(`  - id: ep${e}`, '    scenes:');
    for (let s = 0; s < scenes / 4; s++) {
      const n = e * (scenes / 4) + s;
      yaml.push(`      - { id: s${s}, lines: [{ left: line${n % lines}.wav }, { right: line${(n * 7 + 3) % lines}.wav, pause: 0.3 }] }`);
    }
  }
  return `${yaml.join('\n')}\n`;
}

/**
 * The same nights on takes with room tone at both ends (-60 dBFS noise,
 * under silencedetect's -50 dB threshold), rendered whole and with
 * `trim: edges`, each keeping its own cache across nights.
 */
async function trimNights(fake: FakeWavespeed, lines: number, scenes: number): Promise<{ whole: Night[]; trimmed: Night[] }> {
  const { dir, manifest: whole } = tinyProject(manifestYaml(lines, scenes, ''));
  const trimmed = path.join(dir, 'trimmed.yaml');
  writeFileSync(trimmed, manifestYaml(lines, scenes, ', trim: edges'));
  for (let i = 0; i < lines; i++) {
    const tone = (seed: number, samples: number) => `anoisesrc=r=16000:a=0.001:seed=${seed},atrim=end_sample=${samples}`;
    const graph = `${tone(i + 1, 4800)}[a];sine=frequency=${200 + i * 23}:sample_rate=16000:duration=${lineSeconds(i)}[b];${tone(i + 101, 6400)}[c];[a][b][c]concat=n=3:v=0:a=1[o]`;
    await runFfmpeg(['-filter_complex', graph, '-map', '[o]', '-ac', '1', path.join(dir, `line${i}.wav`)], ffmpeg);
  }
  const caches = [mkdtempSync(path.join(tmpdir(), 'duologue-bench-whole-')), mkdtempSync(path.join(tmpdir(), 'duologue-bench-trim-'))];
  const out = { whole: [] as Night[], trimmed: [] as Night[] };
  for (let n = 0; n < NIGHTS; n++) {
    if (n === 1) appendFileSync(path.join(dir, 'line0.wav'), Buffer.alloc(2));
    out.whole.push(await night(fake, whole, caches[0]));
    out.trimmed.push(await night(fake, trimmed, caches[1]));
  }
  return out;
}

export function nightlyCostMarkdown(r: BenchResult): string {
  const nights = r.nights as { duologue_billed_usd: number; duologue_ledger_usd: number; duologue_rendered: number; naive_billed_usd: number; naive_rendered: number }[];
  const ledger = nights.every((n) => n.duologue_ledger_usd === n.duologue_billed_usd) ? "duologue's ledger agreed with the bill every night" : `duologue's ledger: ${nights.map((n) => `$${n.duologue_ledger_usd}`).join(', ')} — **not the bill**`;
  const usd = (x: number) => `$${x.toFixed(2)}`;
  const rows = nights.map((n, i) => [i + 1, `${usd(n.duologue_billed_usd)} (${n.duologue_rendered} scenes)`, `${usd(n.naive_billed_usd)} (${n.naive_rendered} scenes)`]);
  rows.push(['total', `**${usd(r.duologue_total_usd as number)}**`, usd(r.naive_total_usd as number)]);
  const rt = r.room_tone as { nights: { whole_billed_usd: number; whole_rendered: number; trimmed_billed_usd: number; trimmed_rendered: number }[]; whole_total_usd: number; trimmed_total_usd: number; whole_waste_usd: number; trimmed_waste_usd: number; saved_pct: number };
  const trimRows = rt.nights.map((n, i) => [i + 1, `${usd(n.whole_billed_usd)} (${n.whole_rendered} scenes)`, `${usd(n.trimmed_billed_usd)} (${n.trimmed_rendered} scenes)`]);
  trimRows.push(['total', usd(rt.whole_total_usd), `**${usd(rt.trimmed_total_usd)}**`]);
  return (
    `${r.scenes} scenes; billed by the fake WaveSpeed; ${r.saved_pct}% saved; ${ledger}:\n\n${table(['night', 'duologue (one cache)', 'naive (empty cache each night)'], rows)}\n\n` +
    `Takes with room tone at their ends, duologue (one cache each) without and with \`trim: edges\`; ${rt.saved_pct}% saved by the trim; ` +
    `plan's "paid for nothing" from scratch ${usd(rt.whole_waste_usd)} → ${usd(rt.trimmed_waste_usd)}:\n\n${table(['night', 'whole takes', 'trim: edges'], trimRows)}`
  );
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
