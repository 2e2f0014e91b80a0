/**
 * Opening the cache's state: the one place that picks a backend. Today the
 * embedded SQLite database in the cache dir; every caller gets the same
 * interfaces whichever it is.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuologueError } from '../errors.ts';
import type { Store, StoreOptions } from './interfaces.ts';
import { DB_FILE } from './sqlite/db.ts';
import { openSqliteStore } from './sqlite/store.ts';

export type { Store, StoreOptions } from './interfaces.ts';

/** Opens (creating if needed) the state of the cache in `options.dir`; `:memory:` for a throwaway one. */
export async function openStore(options: StoreOptions): Promise<Store> {
  return openSqliteStore(options);
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
    return openStore({ ...options, dir: ':memory:' });
  }
}

/** Whether a cache has been created in `dir` (commands that only report say so instead of creating one). */
export async function storeExists(dir: string): Promise<boolean> {
  return existsSync(path.join(dir, DB_FILE));
}
