/**
 * Group commit. The units of work asked for in one turn of the event loop
 * (the jobs a list look or a burst of finished downloads woke together, and
 * single store calls made meanwhile) are committed as one SQLite
 * transaction, each unit inside a savepoint of its own. A commit is the
 * costly part of a write here (the WAL's writes and file locks: about
 * 0.1 ms, against microseconds for a statement), and a scene needs four.
 *
 * Each caller still gets what a transaction of its own gives: its writes
 * land together or not at all (its savepoint), and its promise settles only
 * after the COMMIT that makes them durable — so nothing is sent to the
 * provider before the state that allows it is on disk.
 */
import type Database from 'better-sqlite3';
import { driverError, type ConnectionLock } from './guard.ts';

/** The real one, kept before a test could fake timers: a group must always be flushed. */
const nextTurn = setImmediate;

interface Unit {
  run: (token: number) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Done = { unit: Unit; ok: true; value: unknown } | { unit: Unit; ok: false; error: unknown };

export class GroupCommit {
  /** The token of the unit running now (0: none): a transaction's `tx` works only while its own unit runs. */
  current = 0;
  private issued = 0;
  private queue: Unit[] = [];
  private scheduled = false;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackTo: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    /** Shared by every connection of this process to the file (see `lockOf`). */
    private readonly lock: ConnectionLock,
    private readonly location: string,
  ) {
    // IMMEDIATE: the write lock is taken (or waited for) up front. A deferred transaction that
    // reads first and writes later fails at once with "database is locked" when another process
    // wrote in between.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT unit');
    this.release = db.prepare('RELEASE unit');
    this.rollbackTo = db.prepare('ROLLBACK TO unit');
  }

  /** Runs `fn` (given its unit's token) in the next group; settles once that group's COMMIT is on disk. */
  run<T>(fn: (token: number) => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        nextTurn(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  /** A group is waiting to run, or running (this store's, or another's on the same file). */
  busy(): boolean {
    return this.queue.length > 0 || this.lock.held;
  }

  /** Commits what is queued now (a store closing calls it, so nothing queued is lost). */
  flush(): Promise<void> {
    return this.lock.run(() => this.commitGroup());
  }

  private async commitGroup(): Promise<void> {
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    try {
      this.begin.run();
    } catch (error) {
      const e = driverError(error, this.location);
      for (const unit of group) unit.reject(e);
      return;
    }
    const done: Done[] = [];
    for (const [i, unit] of group.entries()) {
      const token = ++this.issued;
      this.current = token;
      try {
        this.savepoint.run();
        const value = await unit.run(token);
        this.release.run();
        done.push({ unit, ok: true, value });
      } catch (error) {
        const e = driverError(error, this.location);
        if (!this.undo()) {
          // SQLite dropped the whole transaction (a full disk, an I/O error): nothing of this group
          // landed. The units that ran are told so; those that did not run go to the next group.
          for (const d of done) d.unit.reject(e);
          unit.reject(e);
          this.requeue(group.slice(i + 1));
          return;
        }
        done.push({ unit, ok: false, error: e });
      } finally {
        this.current = 0;
      }
    }
    try {
      this.commit.run();
    } catch (error) {
      const e = driverError(error, this.location);
      try {
        if (this.db.inTransaction) this.rollback.run();
      } catch {
        /* the connection failed as a whole: the error given says so, and SQLite drops the transaction */
      }
      for (const d of done) d.unit.reject(e);
      return;
    }
    for (const d of done) {
      if (d.ok) d.unit.resolve(d.value);
      else d.unit.reject(d.error);
    }
  }

  /** Undoes the failed unit's writes, keeping the group's; false when the transaction itself is gone. */
  private undo(): boolean {
    if (!this.db.inTransaction) return false;
    try {
      this.rollbackTo.run();
      this.release.run();
      return true;
    } catch {
      try {
        if (this.db.inTransaction) this.rollback.run();
      } catch {
        /* as above */
      }
      return false;
    }
  }

  private requeue(units: Unit[]): void {
    if (units.length === 0) return;
    this.queue.unshift(...units);
    if (!this.scheduled) {
      this.scheduled = true;
      nextTurn(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }
}
