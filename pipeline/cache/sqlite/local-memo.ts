/**
 * This machine's media memo (path, size, mtime, inode → sha256, probe) for a
 * store whose shared state lives on a server: the memo describes local files,
 * so it stays in the cache dir's own SQLite database, as it does for the
 * embedded store (a cache dir used both ways keeps one memo).
 */
import type { FileMemo } from '../interfaces.ts';
import { driverError, guard, lockOf } from './guard.ts';
import { GroupCommit } from './group-commit.ts';
import { openDb } from './db.ts';
import { createFileMemo } from './file-memo.ts';

export interface LocalFileMemo {
  files: FileMemo;
  /** How many files it remembers (`cache stats`). */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** Opens (creating if needed) the media memo of the cache in `dir` (`:memory:` for one in memory). */
export function openLocalFileMemo(dir: string, now: () => number = Date.now): LocalFileMemo {
  const db = openDb(dir);
  const { lock, done } = lockOf(db);
  const group = new GroupCommit(db, lock, dir);
  const files = guard<FileMemo>(createFileMemo(db, now), { get: 'read', put: 'write' }, dir, (fn) => group.run(fn), () => group.busy());
  const count = db.prepare<[], { n: number }>('SELECT count(*) n FROM file_memo');
  return {
    files,
    count: async () => {
      try {
        return count.get()!.n;
      } catch (error) {
        throw driverError(error, dir);
      }
    },
    close: async () => {
      await group.flush();
      await lock.run(() => {
        done();
        db.close();
      });
    },
  };
}
