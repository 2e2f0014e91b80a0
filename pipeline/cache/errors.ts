import { DuologueError } from '../errors.ts';

/**
 * The cache's state could not be read or written (disk full, I/O error, a
 * lock held too long): E_CACHE, saying where. Every backend turns its
 * driver's errors into this, so the rest of duologue stops cleanly on it
 * without knowing which driver failed.
 */
export class StoreError extends DuologueError {
  constructor(
    /** The driver's own words ("database or disk is full"). */
    readonly detail: string,
    location: string,
    options?: { cause?: unknown },
  ) {
    const full = /disk is full|SQLITE_FULL|ENOSPC/i.test(detail) ? ' (the disk is full: free space or move --cache-dir)' : '';
    super('E_CACHE', `the cache database in ${location} could not be written: ${detail}${full}`, options);
  }
}

/** Any error of a store call as E_CACHE (a DuologueError is already one of ours, and kept). */
export function cacheError(error: unknown, location: string): DuologueError {
  if (error instanceof DuologueError) return error;
  return new StoreError((error as Error)?.message ?? String(error), location, { cause: error });
}

/** The driver's words for a store failure, else the error's message. */
export function failureDetail(error: unknown): string {
  return error instanceof StoreError ? error.detail : ((error as Error)?.message ?? String(error));
}
