/**
 * The embedded store: one SQLite connection in the cache dir, its tables
 * behind the store's interfaces. SQLite is synchronous underneath: every
 * transaction, and every call made outside one, is a unit of a group commit
 * (group-commit.ts), run in turn under the connection's lock, which every
 * other store of this process on the same file shares (guard.ts).
 */
import type { CacheAdmin, EpisodeStitches, FileMemo, RenderStore, RunLedger, Store, StoreOptions, StoreParts, UploadMemo } from '../interfaces.ts';
import { newOwnerId } from '../owner.ts';
import { createAdmin } from './admin.ts';
import { openDb, type Db } from './db.ts';
import { createFileMemo } from './file-memo.ts';
import { driverError, guard, inUnit, lockOf, unitGuard, type MethodNames, type Sync } from './guard.ts';
import { GroupCommit } from './group-commit.ts';
import { SqliteRenders } from './renders.ts';
import { SqliteLedger } from './runs.ts';
import { SqliteStitches } from './stitches.ts';
import { createUploadMemo } from './uploads.ts';

// Reads run at once (waiting only for a group being committed); writes are units of the next group.
const RENDERS: MethodNames<RenderStore> = {
  get: 'read',
  getMany: 'read',
  claim: 'write',
  renew: 'write',
  markSubmitting: 'write',
  markPending: 'write',
  closeSubmit: 'write',
  markInFlight: 'write',
  markComplete: 'write',
  markFailed: 'write',
  missedOutput: 'write',
  release: 'write',
  releaseAll: 'write',
  predictionIds: 'read',
  relocate: 'write',
  forget: 'write',
  recordSceneKey: 'write',
  lastSceneKeys: 'read',
};
const LEDGER: MethodNames<RunLedger> = { start: 'write', scene: 'write', planned: 'write', finish: 'write', run: 'read', charges: 'read', submitted: 'write', knowsPrediction: 'read', joinRun: 'write', joinWorker: 'write', reserve: 'write', settleHold: 'write', releaseHold: 'write', adoptHold: 'write', releaseStaleHolds: 'write', holdTotals: 'read' };
const UPLOADS: MethodNames<UploadMemo> = { get: 'read', put: 'write', forget: 'write' };
const FILES: MethodNames<FileMemo> = { get: 'read', put: 'write' };
const ADMIN: MethodNames<CacheAdmin> = {
  stats: 'read',
  completeRenders: 'read',
  rendersByKeyPrefix: 'read',
  attach: 'write',
  recentRuns: 'read',
  workers: 'read',
  lapsedClaims: 'read',
  openRenders: 'read',
  heldRenders: 'read',
  storedClips: 'read',
  activeUsers: 'read',
  renderKeys: 'read',
  awaitedPredictions: 'read',
  dropRender: 'write',
};

const STITCHES: MethodNames<EpisodeStitches> = { get: 'read', claim: 'write', renew: 'write', markWritten: 'write', release: 'write', reopen: 'write' };

/** Which methods of each part only read (tests check a reader never needs the write lock). */
export const METHOD_KINDS = { renders: RENDERS, ledger: LEDGER, uploads: UPLOADS, files: FILES, admin: ADMIN, stitches: STITCHES };

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
  const ledger = new SqliteLedger(db, now, renders.owner, renders.leaseMs);
  const files = createFileMemo(db, now);
  const uploadMemos = new Map<string, Sync<UploadMemo>>();
  const uploadsOf = (provider: string) => uploadMemos.get(provider) ?? uploadMemos.set(provider, createUploadMemo(db, provider, now)).get(provider)!;
  // Shared with every other store of this process on the same file (see lockOf).
  const { lock, done } = lockOf(db);
  const group = new GroupCommit(db, lock, location);
  const outside = <R>(fn: () => R) => group.run(fn);
  // No unit is running once SQLite has dropped the transaction (a full disk, an I/O error): a call made
  // after that (side by side with the one that failed) would be a statement of its own, committed at once.
  const current = () => (db.inTransaction ? group.current : 0);
  const busy = () => group.busy();

  const withLease = (face: RenderStore): RenderStore =>
    Object.defineProperties(face, {
      owner: { value: renders.owner, enumerable: true },
      leaseMs: { value: renders.leaseMs, enumerable: true },
      clock: { value: renders.clock, enumerable: true },
    });
  /** Calls made outside a transaction: each a unit of the next group. */
  const uploadFaces = new Map<string, UploadMemo>();
  const outer: StoreParts = {
    renders: withLease(guard<RenderStore>(renders, RENDERS, location, outside, busy)),
    ledger: guard<RunLedger>(ledger, LEDGER, location, outside, busy),
    files: guard<FileMemo>(files, FILES, location, outside, busy),
    uploads: (provider) => uploadFaces.get(provider) ?? uploadFaces.set(provider, guard<UploadMemo>(uploadsOf(provider), UPLOADS, location, outside, busy)).get(provider)!,
  };
  /** Calls inside a transaction's unit, made once; each transaction gets its own view (`inUnit`). */
  const unitUploadFaces = new Map<string, UploadMemo>();
  const unitFaces = {
    renders: withLease(unitGuard<RenderStore>(renders, RENDERS, location, current)),
    ledger: unitGuard<RunLedger>(ledger, LEDGER, location, current),
    files: unitGuard<FileMemo>(files, FILES, location, current),
    uploads: (provider: string) =>
      unitUploadFaces.get(provider) ?? unitUploadFaces.set(provider, unitGuard<UploadMemo>(uploadsOf(provider), UPLOADS, location, current)).get(provider)!,
  };
  /** A transaction's `tx`: usable only while its own unit runs. */
  const txOf = (token: number): StoreParts => ({
    renders: inUnit(unitFaces.renders, token),
    ledger: inUnit(unitFaces.ledger, token),
    files: inUnit(unitFaces.files, token),
    uploads: (provider) => inUnit(unitFaces.uploads(provider), token),
  });

  return {
    location,
    ...outer,
    admin: guard<CacheAdmin>(createAdmin(db, location, now), ADMIN, location, outside, busy),
    stitches: guard<EpisodeStitches>(new SqliteStitches(db, renders.owner, now, renders.leaseMs), STITCHES, location, outside, busy),
    // One commit of its own in effect (its unit's savepoint), committed with the others of its group.
    transaction: (fn) => group.run((token) => fn(txOf(token))),

    close: async () => {
      await group.flush();
      await lock.run(() => {
        done();
        db.close();
      });
    },
  };
}
