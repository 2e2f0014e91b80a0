/**
 * Bench: `duologue plan` end to end, in-process through the CLI's `main()`
 * with captured streams (argument parsing, cache open, YAML + schema +
 * normalize, hash memo, cache lookups with clip checks, the pure planner, the
 * text table), 1,000 (or 10,000) scenes over 50 media files.
 * - cold: an empty cache, every file hashed and probed once;
 * - warm: the cache of a nightly run: every scene rendered before (rows and
 *   clip files present), then one of the 48 audio files changed, so the
 *   scenes using it miss with a reason and the rest hit; hash memo filled.
 *   BENCH_REPEATS runs (default 3), median and min–max.
 * Node's start and module loading are not included (one process runs all).
 * Target: warm < 1 s (< 2 s for 10,000). Run: npm run bench -- plan
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clipPath } from '../../pipeline/cache/clips/index.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { main } from '../../pipeline/cli.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { Capture } from '../helpers/cli.ts';
import { table, type BenchResult } from './markdown.ts';
import { repeats } from './options.ts';
import { roundSummary, showSummary, summarize, type Summary } from './stats.ts';

const CLIP_BYTES = 64;

/** 48 distinct audio files (a trailing byte makes each hash differ), 2 images, and a manifest of `episodes` × 50 scenes. */
function project(episodes: number): { dir: string; manifest: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-plan-'));
  const fixtures = path.join(import.meta.dirname, '../fixtures/media');
  const tone = readFileSync(path.join(fixtures, 'tone-2500ms.wav'));
  for (let i = 0; i < 48; i++) writeFileSync(path.join(dir, `a${i}.wav`), Buffer.concat([tone, Buffer.from([i])]));
  copyFileSync(path.join(fixtures, 'two-people.png'), path.join(dir, 'i0.png'));
  writeFileSync(path.join(dir, 'i1.png'), Buffer.concat([readFileSync(path.join(fixtures, 'two-people.png')), Buffer.from([1])]));
  const lines = ['version: 1', 'episodes:'];
  let n = 0;
  for (let e = 0; e < episodes; e++) {
    lines.push(`  - id: e${e}`, '    scenes:');
    for (let s = 0; s < 50; s++, n++) {
      const img = `i${n % 2}.png`;
      if (n % 4 === 0) {
        lines.push(`      - { id: s${s}, image: ${img}, lines: [{ left: a${n % 48}.wav }, { right: a${(n + 1) % 48}.wav, pause: 0.3 }] }`);
      } else {
        lines.push(`      - { id: s${s}, image: ${img}, left: a${n % 48}.wav, right: a${(n + 7) % 48}.wav, order: left_right }`);
      }
    }
  }
  const manifest = path.join(dir, 'series.yaml');
  writeFileSync(manifest, lines.join('\n'));
  return { dir, manifest };
}

/** `duologue plan <manifest> --provider wavespeed --cache-dir DIR`, timed; no API key, so nothing reaches a network. */
async function planCli(manifest: string, cacheDir: string): Promise<{ ms: number; summary: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const t0 = performance.now();
  const code = await main({ argv: ['plan', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir], env: { PATH: process.env.PATH }, stdout, stderr, cwd: path.dirname(manifest) });
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`plan-warm: duologue plan exited ${code}: ${stderr.text}`);
  return { ms, summary: /total: .*/.exec(stdout.text)?.[0] ?? '' };
}

/** What a nightly run leaves: every scene's render complete, its clip in the store, its key remembered. */
async function fillCache(manifest: string, cacheDir: string): Promise<void> {
  const store = await openStore({ dir: cacheDir, owner: 'bench:1:fill' });
  try {
    const prepared = await prepare([manifest], { memo: store.files, ffmpeg: resolveFfmpegPaths(), prices: PROVIDERS.wavespeed.prices });
    const scenes = plan({ ...prepared, provider: PROVIDERS.wavespeed }).episodes.flatMap((e) => e.scenes);
    const clipsDir = path.join(cacheDir, 'clips');
    await store.transaction(async (tx) => {
      for (const s of scenes) {
        const file = clipPath(clipsDir, s.key);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, Buffer.alloc(CLIP_BYTES));
        await tx.renders.claim({ key: s.key, inputs: s.keyInputs, episodeId: s.episodeId, sceneId: s.sceneId, estimateUsd: s.estimateUsd });
        await tx.renders.markComplete(s.key, { path: file, sha256: 'bench', bytes: CLIP_BYTES, videoSeconds: s.videoSeconds, billedSeconds: s.billedSeconds, costUsd: s.estimateUsd }, `bench-${s.key.slice(0, 8)}`);
        await tx.renders.recordSceneKey(s.episodeId, s.sceneId, s.key, s.keyInputs);
      }
    });
  } finally {
    await store.close();
  }
}

/** Media files read by a plan of this cache now (0 when the memo holds every file). */
async function filesRead(manifest: string, cacheDir: string): Promise<number> {
  const store = await openStore({ dir: cacheDir });
  const stats = { hashed: 0, probed: 0, memoHits: 0 };
  await prepare([manifest], { memo: store.files, ffmpeg: resolveFfmpegPaths(), prices: PROVIDERS.wavespeed.prices, stats });
  await store.close();
  return stats.hashed;
}

export async function benchPlanWarm(episodes = 20): Promise<BenchResult> {
  const { dir, manifest } = project(episodes);
  const cacheDir = path.join(dir, 'cache');
  const cold = await planCli(manifest, cacheDir);
  await fillCache(manifest, cacheDir);
  appendFileSync(path.join(dir, 'a0.wav'), Buffer.from([0xff])); // re-recorded: its scenes miss ("left audio changed")
  await planCli(manifest, cacheDir); // re-hashes that one file, as the first plan after a change does
  const warm: number[] = [];
  let summary = '';
  for (let i = 0; i < repeats(); i++) {
    const r = await planCli(manifest, cacheDir);
    warm.push(r.ms);
    summary = r.summary;
  }
  return {
    scenes: episodes * 50,
    media_files: 50,
    cold_ms: Math.round(cold.ms),
    warm_ms: roundSummary(summarize(warm), 0),
    warm_files_read: await filesRead(manifest, cacheDir),
    warm_plan: summary,
    target: episodes * 50 >= 10_000 ? 'warm median < 2000 ms' : 'warm median < 1000 ms',
  };
}

export function planMarkdown(r: BenchResult): string {
  return `${(r.scenes as number).toLocaleString('en-US')} scenes over ${r.media_files} media files; \`duologue plan\` in-process; the warm plan says \`${r.warm_plan}\` and reads ${r.warm_files_read} media files:\n\n${table(
    ['cache', 'ms'],
    [['cold (empty)', r.cold_ms as number], ['warm, median (min–max)', showSummary(r.warm_ms as Summary, 0)]],
  )}`;
}
