import type { Stats } from 'node:fs';
import type { FileMemo } from '../interfaces.ts';
import type { Db } from './db.ts';
import type { Sync } from './guard.ts';

/** {@link FileMemo} on the file_memo table. */
export function createFileMemo(db: Db, now: () => number = Date.now): Sync<FileMemo> {
  const select = db.prepare<[string], { size: number; mtime_ns: string; ino: string; sha256: string; probe: string | null }>(
    'SELECT size, mtime_ns, ino, sha256, probe FROM file_memo WHERE path = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO file_memo (path, size, mtime_ns, ino, sha256, probe, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino,
       sha256 = excluded.sha256, probe = excluded.probe, checked_at = excluded.checked_at`,
  );
  return {
    get(file, stats) {
      const row = select.get(file);
      if (!row || row.size !== stats.size || row.mtime_ns !== mtimeNs(stats) || row.ino !== String(stats.ino)) return undefined;
      return { sha256: row.sha256, probe: row.probe === null ? null : JSON.parse(row.probe) };
    },
    put(file, stats, facts) {
      upsert.run(file, stats.size, mtimeNs(stats), String(stats.ino), facts.sha256, facts.probe === null ? null : JSON.stringify(facts.probe), now());
    },
  };
}

/** Nanosecond mtime when the platform gives it (bigint stats), else milliseconds. */
function mtimeNs(stats: Stats): string {
  const big = (stats as unknown as { mtimeNs?: bigint }).mtimeNs;
  return big !== undefined ? String(big) : String(Math.round(stats.mtimeMs * 1e6));
}
