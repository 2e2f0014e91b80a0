import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DuologueError } from '../errors.ts';
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
      db.pragma('journal_mode = WAL');
    }
    db.pragma('busy_timeout = 10000');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (cause) {
    if (cause instanceof DuologueError) throw cause;
    throw new DuologueError('E_CACHE', `cannot open the cache database in ${dir}: ${(cause as Error).message}`, { cause });
  }
  return db;
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
