import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DuologueError } from '../../errors.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export const DB_FILE = 'duologue.db';

/**
 * Opens (creating if needed) the cache database in `dir`, or an in-memory one
 * for `:memory:`. WAL lets readers (plan, status) run beside a render; the
 * busy timeout lets two processes share one cache.
 */
export function openDb(dir: string): Db {
  let db: Db;
  try {
    if (dir === ':memory:') {
      db = new Database(':memory:');
    } else {
      mkdirSync(dir, { recursive: true });
      db = new Database(path.join(dir, DB_FILE));
      // Wait for a lock first: several processes opening a new cache at once race to switch it to WAL.
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
    }
    db.pragma('busy_timeout = 10000');
    // FULL, not WAL's usual NORMAL: a 'submitting' row lets a paid request go out, and under
    // NORMAL a COMMIT only reaches the OS, so a power loss or kernel crash could lose it and
    // the next run would pay for the key again. The fsync (~0.35 ms here) is shared by every
    // write of a group commit.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (cause) {
    if (cause instanceof DuologueError) throw cause;
    throw new DuologueError('E_CACHE', `cannot open the cache database in ${dir}: ${(cause as Error).message}${writableHint(dir)}`, { cause });
  }
  return db;
}

/** Why a directory cannot be written, in words, or '' when it can. */
function writableHint(dir: string): string {
  try {
    accessSync(dir, constants.W_OK);
    return '';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return ' (the directory is on a read-only file system; point --cache-dir somewhere writable)';
    if (code === 'EACCES' || code === 'EPERM') return ' (the directory is read-only for this user; point --cache-dir somewhere writable)';
    return '';
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new DuologueError(
      'E_CACHE',
      `the cache database is at schema version ${current}, newer than this duologue knows (${MIGRATIONS.length}); upgrade duologue or use another --cache-dir`,
    );
  }
  // IMMEDIATE takes the write lock up front, so two processes opening a new
  // cache at once do not both try to apply the same migration.
  const apply = db.transaction(() => {
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let v = now; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  if (current < MIGRATIONS.length) apply.immediate();
}

/** `sql(text)` returns a statement compiled once per text (compiling per call was measurable per scene). */
export function statementCache(db: Db): (text: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (text) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
}
