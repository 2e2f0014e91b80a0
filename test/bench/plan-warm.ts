/**
 * Bench: plan 1,000 scenes that reuse 50 media files, cold (empty memo) and
 * warm (second run, hash memo filled). Target: warm < 1 s.
 * Run: npm run bench -- plan
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../../pipeline/cache/db.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan } from '../../pipeline/plan.ts';
import { prepare } from '../../pipeline/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';

export async function benchPlanWarm(episodes = 20): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-plan-'));
  const fixtures = path.join(import.meta.dirname, '../fixtures/media');
  const tone = readFileSync(path.join(fixtures, 'tone-2500ms.wav'));
  // 48 distinct audio files (a trailing byte makes each hash differ) + 2 images = 50 files.
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
  const cacheDir = path.join(dir, 'cache');
  const provider = PROVIDERS.wavespeed;

  const once = async () => {
    const db = openDb(cacheDir);
    const stats = { hashed: 0, probed: 0, memoHits: 0 };
    const t0 = performance.now();
    const prepared = await prepare([manifest], { db, ffmpeg: resolveFfmpegPaths(), prices: provider.prices, stats });
    const p = plan({ ...prepared, provider });
    const ms = performance.now() - t0;
    db.close();
    return { ms, stats, scenes: p.totals.scenes };
  };
  const cold = await once();
  const warm = await once();
  const warm2 = await once();
  return {
    scenes: cold.scenes,
    media_files: 50,
    cold_ms: Math.round(cold.ms),
    cold_files_read: cold.stats.hashed,
    warm_ms: Math.round(Math.min(warm.ms, warm2.ms)),
    warm_files_read: warm.stats.hashed,
    target: episodes * 50 >= 10_000 ? 'warm < 2000 ms' : 'warm < 1000 ms',
  };
}
