/**
 * Makes files "cold" for a read benchmark: out of this machine's page cache.
 * First per file with posix_fadvise(DONTNEED) through GNU dd's
 * `iflag=nocache count=0` (coreutils documents it as "drop cache for the
 * whole file"): needs no privileges and leaves other processes' caches on a
 * shared machine alone. If that leaves pages resident, the whole cache is
 * dropped (`echo 3 > /proc/sys/vm/drop_caches`, root only). Residency is
 * checked with util-linux `fincore`; whatever cannot be evicted is reported,
 * so the bench calls such reads warm, not cold.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export type Eviction = 'fadvise' | 'drop_caches' | 'none';

/** Bytes of these files now in the page cache; undefined when `fincore` is not available. */
export function residentBytes(files: readonly string[]): number | undefined {
  try {
    const out = execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'RES', ...files], { encoding: 'utf8' });
    return out.trim().split('\n').reduce((a, l) => a + Number(l), 0);
  } catch {
    return undefined;
  }
}

/** Tries to evict the files (they must be written back already: dirty pages stay); returns what worked. */
export function evict(files: readonly string[]): { method: Eviction; residentBytes?: number } {
  for (const f of files) {
    try {
      execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
    } catch {
      break; // not GNU dd: try the global drop below
    }
  }
  let resident = residentBytes(files);
  if (resident === 0) return { method: 'fadvise', residentBytes: 0 };
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  } catch {
    return { method: 'none', residentBytes: resident };
  }
  resident = residentBytes(files);
  // Without fincore nothing can be verified: say so rather than claim cold.
  return resident === 0 ? { method: 'drop_caches', residentBytes: 0 } : { method: 'none', residentBytes: resident };
}
