/**
 * Bench: money over a 3-night scenario — render, change 5% of the line audio,
 * render, render — against a naive loop that re-renders everything each
 * night. Real runs against the fake server, WaveSpeed prices.
 * Run: npm run bench -- cost
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { render } from '../../pipeline/render.ts';
import { ffmpeg, KEY, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const LINES = 20;
const SCENES = 40;

export async function benchNightlyCost(): Promise<Record<string, string | number>> {
  const fake = await startFake({ msPerVideoSecond: 2, maxConcurrent: 4 });
  try {
    const yaml = ['version: 1', 'defaults: { image: two-people.png }', 'episodes:'];
    for (let e = 0; e < 4; e++) {
      yaml.push(`  - id: ep${e}`, '    scenes:');
      for (let s = 0; s < SCENES / 4; s++) {
        const n = e * (SCENES / 4) + s;
        yaml.push(`      - { id: s${s}, lines: [{ left: line${n % LINES}.wav }, { right: line${(n * 7 + 3) % LINES}.wav, pause: 0.3 }] }`);
      }
    }
    const { dir, manifest } = tinyProject(`${yaml.join('\n')}\n`);
    for (let i = 0; i < LINES; i++) {
      await runFfmpeg(['-f', 'lavfi', '-i', `sine=frequency=${200 + i * 23}:sample_rate=16000:duration=${(1 + (i % 5) * 0.4).toFixed(1)}`, '-ac', '1', path.join(dir, `line${i}.wav`)], ffmpeg);
    }
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-cost-'));
    const night = async () => {
      const r = await render([manifest], { provider: 'wavespeed', apiKey: KEY, baseUrl: fake.apiUrl, cacheDir, outDir: path.join(cacheDir, 'out'), policy: FAST_POLICY, report: false });
      return { spent: r.schedule.spentUsd, fromScratch: r.plan.totals.fullCostUsd, rendered: r.schedule.scenes.filter((s) => s.outcome === 'rendered').length };
    };
    const n1 = await night();
    appendFileSync(path.join(dir, 'line0.wav'), Buffer.alloc(2)); // 1 of 20 line files = 5% of the lines re-recorded
    const n2 = await night();
    const n3 = await night();
    const duologue = n1.spent + n2.spent + n3.spent;
    const naive = 3 * n1.fromScratch;
    return {
      scenes: SCENES,
      night1_usd: n1.spent,
      night2_usd: n2.spent,
      night2_rendered: n2.rendered,
      night3_usd: n3.spent,
      duologue_total_usd: Number(duologue.toFixed(2)),
      naive_total_usd: Number(naive.toFixed(2)),
      saved_pct: Math.round((1 - duologue / naive) * 100),
    };
  } finally {
    await fake.stop();
  }
}
