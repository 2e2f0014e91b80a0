/**
 * The embedded store: one SQLite connection in the cache dir, its tables
 * behind the store's interfaces. SQLite is synchronous underneath, so a
 * transaction is BEGIN IMMEDIATE … COMMIT around the awaited function, and
 * the connection's lock keeps every other caller's statement out until it
 * ends, and so does every other store of this process on the same file
 * (see guard.ts).
 */
import type { CacheAdmin, FileMemo, RenderStore, RunLedger, Store, StoreOptions, StoreParts, UploadMemo } from '../interfaces.ts';
import { newOwnerId } from '../owner.ts';
import { createAdmin } from './admin.ts';
import { openDb, type Db } from './db.ts';
import { createFileMemo } from './file-memo.ts';
import { ConnectionLock, driverError, guard, lockOf, type MethodNames, type Sync } from './guard.ts';
import { SqliteRenders } from './renders.ts';
import { SqliteLedger } from './runs.ts';
import { createUploadMemo } from './uploads.ts';

const RENDERS: MethodNames<RenderStore> = {
  get: true,
  getMany: true,
  claim: true,
  renew: true,
  markSubmitting: true,
  markPending: true,
  markInFlight: true,
  markComplete: true,
  markFailed: true,
  missedOutput: true,
  release: true,
  releaseAll: true,
  predictionIds: true,
  relocate: true,
  forget: true,
  recordSceneKey: true,
  lastSceneKeys: true,
};
const LEDGER: MethodNames<RunLedger> = { start: true, scene: true, planned: true, finish: true, run: true, charges: true, submitted: true, knowsPrediction: true };
const UPLOADS: MethodNames<UploadMemo> = { get: true, put: true, forget: true };
const FILES: MethodNames<FileMemo> = { get: true, put: true };
const ADMIN: MethodNames<CacheAdmin> = {
  stats: true,
  completeRenders: true,
  rendersByKeyPrefix: true,
  attach: true,
  recentRuns: true,
  openRenders: true,
  heldRenders: true,
  storedClips: true,
  activeUsers: true,
  renderKeys: true,
  awaitedPredictions: true,
  dropRender: true,
};

/** Opens (creating or migrating) the cache database in `options.dir` (`:memory:` for one in memory). */
export function openSqliteStore(options: StoreOptions): Store {
  const db = openDb(options.dir);
  try {
    return storeOn(db, options);
  } catch (error) {
    db.close();
    throw driverError(error, options.dir);
  }
}

/** The store on an open connection (tests set the connection up first: a disk that fills up, say). */
export function storeOn(db: Db, options: StoreOptions): Store {
  const { dir: location } = options;
  const now = options.now ?? Date.now;
  const renders = new SqliteRenders(db, options.owner ?? newOwnerId(), now, options.leaseMs);
  const ledger = new SqliteLedger(db, now);
  const files = createFileMemo(db, now);
  const uploadMemos = new Map<string, Sync<UploadMemo>>();
  const uploadsOf = (provider: string) => uploadMemos.get(provider) ?? uploadMemos.set(provider, createUploadMemo(db, provider, now)).get(provider)!;
  // Shared with every other store of this process on the same file (see lockOf).
  const { lock, done } = lockOf(db);

  /** The parts, outside a transaction (`lock` given) or inside the open one. */
  const parts = (lock: ConnectionLock | undefined, live?: () => boolean): StoreParts => {
    const faces = new Map<string, UploadMemo>();
    const face = guard<RenderStore>(renders, RENDERS, location, lock, live);
    return {
      renders: Object.defineProperties(face, { owner: { value: renders.owner, enumerable: true }, leaseMs: { value: renders.leaseMs, enumerable: true } }),
      ledger: guard<RunLedger>(ledger, LEDGER, location, lock, live),
      files: guard<FileMemo>(files, FILES, location, lock, live),
      uploads: (provider) => faces.get(provider) ?? faces.set(provider, guard<UploadMemo>(uploadsOf(provider), UPLOADS, location, lock, live)).get(provider)!,
    };
  };
  /** The open transaction's number (0: none); each transaction's `tx` works only while its own is open. */
  let open = 0;
  let opened = 0;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');

  return {
    location,
    ...parts(lock),
    admin: guard<CacheAdmin>(createAdmin(db, location, now), ADMIN, location, lock),

    // IMMEDIATE: the write lock is taken (or waited for) up front. A deferred transaction that
    // reads first and writes later fails at once with "database is locked" when another process
    // wrote in between.
    transaction: (fn) =>
      lock.run(async () => {
        try {
          begin.run();
        } catch (error) {
          throw driverError(error, location);
        }
        const token = ++opened;
        open = token;
        // A `tx` of its own: one kept past its function (a call left running) must not join a later transaction.
        const tx = parts(undefined, () => open === token);
        try {
          const result = await fn(tx);
          commit.run();
          return result;
        } catch (error) {
          try {
            if (db.inTransaction) rollback.run();
          } catch {
            /* the connection failed as a whole: the error below says so, and SQLite drops the transaction */
          }
          throw driverError(error, location);
        } finally {
          open = 0;
        }
      }),

    close: () =>
      lock.run(() => {
        done();
        db.close();
      }),
  };
}
