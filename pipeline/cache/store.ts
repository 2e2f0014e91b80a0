/**
 * Opening the cache's state: the one place that picks a backend. The
 * embedded SQLite database in the cache dir, or, given a `postgres://` URL,
 * a PostgreSQL server shared by several machines; every caller gets the same
 * interfaces whichever it is.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuologueError } from '../errors.ts';
import type { Store, StoreOptions } from './interfaces.ts';
import { DB_FILE } from './sqlite/db.ts';
import { openPostgresStore } from './postgres/store.ts';
import { openSqliteStore } from './sqlite/store.ts';

export type { Store, StoreOptions } from './interfaces.ts';

/**
 * Opens (creating or migrating if needed) the state of the cache: on the
 * server `options.url` names, else in `options.dir` (`:memory:` for a
 * throwaway one).
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { url } = options;
  if (url === undefined) return openSqliteStore(options);
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new DuologueError('E_USAGE', `the store must be a postgres:// URL (or none, for the cache dir's own database); got ${url.split(':')[0]}:…`);
  return openPostgresStore({ ...options, url });
}

/**
 * For commands that only read: when the cache cannot be opened (a read-only
 * folder, say), says why through `onFallback` and works on an empty one in
 * memory instead (every file is then hashed afresh).
 */
export async function openStoreForReading(options: StoreOptions, onFallback: (error: DuologueError) => void): Promise<Store> {
  try {
    return await openStore(options);
  } catch (error) {
    if (!(error instanceof DuologueError)) throw error;
    onFallback(error);
    return openStore({ ...options, url: undefined, dir: ':memory:' });
  }
}

/** Whether a cache has been created in `dir` (commands that only report say so instead of creating one). */
export async function storeExists(dir: string): Promise<boolean> {
  return existsSync(path.join(dir, DB_FILE));
}
