/**
 * Bench: cold hashing throughput of duologue's sha256 (streamed, as used for
 * media) vs `sha256sum` on the same files. Run: npm run bench -- hashing
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sha256File } from '../../pipeline/media/hash.ts';

export async function benchHashing(): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-hash-'));
  const files: string[] = [];
  for (let i = 0; i < 20; i++) {
    const f = path.join(dir, `f${i}.bin`);
    writeFileSync(f, randomBytes(16 * 1024 * 1024));
    files.push(f);
  }
  const mb = (files.length * 16);
  // Both read from the page cache (the files were just written): this compares hashing, not the disk.
  const t0 = performance.now();
  const ours = [];
  for (const f of files) ours.push(await sha256File(f));
  const oursS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const out = execFileSync('sha256sum', files, { encoding: 'utf8' });
  const theirsS = (performance.now() - t1) / 1000;
  const theirs = out.trim().split('\n').map((l) => l.split(/\s+/)[0]);
  if (theirs.join() !== ours.join()) throw new Error('hash mismatch with sha256sum');
  return { files: files.length, total_mb: mb, duologue_mb_s: Math.round(mb / oursS), sha256sum_mb_s: Math.round(mb / theirsS), ratio: Number((oursS / theirsS).toFixed(2)) };
}
