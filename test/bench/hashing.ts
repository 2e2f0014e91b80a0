/**
 * Bench: hashing throughput of duologue's sha256 (streamed, as used for
 * media) and `sha256sum`, same files, cold (evicted from the page cache
 * first, see page-cache.ts) and warm (read again at once), alternating
 * cold/warm and which tool goes first, BENCH_REPEATS times (default 3);
 * medians. When the files cannot be evicted the "cold" rows are warm reads
 * and are labelled so. Run: npm run bench -- hashing
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sha256File } from '../../pipeline/media/hash.ts';
import { table, type BenchResult } from './markdown.ts';
import { repeats, sized } from './options.ts';
import { evict, type Eviction } from './page-cache.ts';
import { roundSummary, showSummary, summarize, type Summary } from './stats.ts';

const FILE_MB = 16;

type Tool = 'duologue' | 'sha256sum';

async function hashAll(tool: Tool, files: string[]): Promise<{ seconds: number; hashes: string[] }> {
  const t0 = performance.now();
  let hashes: string[];
  if (tool === 'duologue') {
    hashes = [];
    for (const f of files) hashes.push(await sha256File(f));
  } else {
    hashes = execFileSync('sha256sum', files, { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/\s+/)[0]);
  }
  return { seconds: (performance.now() - t0) / 1000, hashes };
}

export async function benchHashing(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-hash-'));
  const files: string[] = [];
  for (let i = 0; i < sized(20, 4); i++) {
    const f = path.join(dir, `f${i}.bin`);
    // Written back to disk (fsync): the page cache drops only clean pages.
    const fd = openSync(f, 'w');
    writeSync(fd, randomBytes(FILE_MB * 1024 * 1024));
    fsyncSync(fd);
    closeSync(fd);
    files.push(f);
  }
  const mb = files.length * FILE_MB;
  const speeds: Record<`${Tool}_${'cold' | 'warm'}`, number[]> = { duologue_cold: [], sha256sum_cold: [], duologue_warm: [], sha256sum_warm: [] };
  const methods = new Set<Eviction>();
  let expected: string | undefined;
  for (let i = 0; i < repeats(); i++) {
    const tools: Tool[] = i % 2 === 0 ? ['duologue', 'sha256sum'] : ['sha256sum', 'duologue'];
    for (const temperature of ['cold', 'warm'] as const) {
      for (const tool of tools) {
        if (temperature === 'cold') methods.add(evict(files).method);
        const { seconds, hashes } = await hashAll(tool, files);
        expected ??= hashes.join();
        if (hashes.join() !== expected) throw new Error(`hashing: ${tool} disagrees on the files' sha256`);
        speeds[`${tool}_${temperature}`].push(mb / seconds);
      }
    }
  }
  // "cold" only when every cold read really started from an evicted file.
  const coldLabel = methods.has('none') ? 'warm (could not evict)' : 'cold';
  const s = (k: keyof typeof speeds) => roundSummary(summarize(speeds[k]), 0);
  return {
    files: files.length,
    total_mb: mb,
    repeats: repeats(),
    eviction: [...methods].join('+'),
    cold_label: coldLabel,
    duologue_cold_mb_s: s('duologue_cold'),
    sha256sum_cold_mb_s: s('sha256sum_cold'),
    duologue_warm_mb_s: s('duologue_warm'),
    sha256sum_warm_mb_s: s('sha256sum_warm'),
  };
}

export function hashingMarkdown(r: BenchResult): string {
  const row = (label: string, ours: Summary, theirs: Summary) => [label, showSummary(ours, 0), showSummary(theirs, 0), (ours.median / theirs.median).toFixed(2)];
  return `${r.files} files × ${FILE_MB} MB, ${r.repeats} alternating runs; MB/s, median (min–max); eviction: ${r.eviction}:\n\n${table(
    ['reads', 'duologue', '`sha256sum`', 'duologue ÷ sha256sum'],
    [row(String(r.cold_label), r.duologue_cold_mb_s as Summary, r.sha256sum_cold_mb_s as Summary), row('warm (page cache)', r.duologue_warm_mb_s as Summary, r.sha256sum_warm_mb_s as Summary)],
  )}`;
}
