/**
 * better-sqlite3 is synchronous; the store's interfaces are not (a server
 * backend's driver is asynchronous). Each interface is implemented by a
 * synchronous class and exposed through `guard`, which runs a call at once
 * when no transaction is open on the connection and otherwise queues it
 * until that transaction ends (a statement of another caller run mid-way
 * would join the transaction: committed with it, or rolled back with it).
 */
import { realpathSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors.ts';

/** The synchronous shape of an async interface: its methods return their results, not Promises. */
export type Sync<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K] };

/** The names of an interface's methods, each listed once (the compiler checks none is missing), with whether it writes. */
export type MethodNames<T> = Record<{ [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T], 'read' | 'write'>;

/**
 * A mutex for one connection's transaction. Its fast path (free) costs a
 * flag check: a store call per scene step must stay cheap.
 */
export class ConnectionLock {
  held = false;
  private waiters: (() => void)[] = [];

  /** Runs `fn` holding the lock; callers queue in arrival order. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.held) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.held = true;
    try {
      return await fn();
    } finally {
      // Handed straight to the next waiter, so a caller arriving in between cannot slip in.
      const next = this.waiters.shift();
      if (next) next();
      else this.held = false;
    }
  }
}

/**
 * The lock of a database file, shared by every connection this process has
 * to it. SQLite's own file lock cannot be waited for asynchronously: while
 * one connection's transaction is open across an await, another connection
 * of the same process asking for the write lock blocks the event loop (the
 * transaction it waits for cannot end) for the busy timeout, then fails with
 * "database is locked". Two stores on one cache in one process (two
 * `render()` calls of a host program) therefore take turns on one lock.
 * Other processes still wait on SQLite's lock, which their transactions
 * (awaits of store calls only) hold for microseconds.
 */
const fileLocks = new Map<string, { lock: ConnectionLock; users: number }>();

/** Takes the lock of `db`'s file (a new one for an in-memory database); `done` gives it back when the store closes. */
export function lockOf(db: Database.Database): { lock: ConnectionLock; done: () => void } {
  if (db.memory) return { lock: new ConnectionLock(), done: () => {} };
  const file = realpathSync(db.name);
  const entry = fileLocks.get(file) ?? fileLocks.set(file, { lock: new ConnectionLock(), users: 0 }).get(file)!;
  entry.users++;
  let given = false;
  return {
    lock: entry.lock,
    done: () => {
      if (given) return;
      given = true;
      if (--entry.users === 0) fileLocks.delete(file);
    },
  };
}

/**
 * The async face of a synchronous implementation for calls made outside a
 * transaction: a write runs as a unit of the store's group commit
 * (`outside`). A read runs at once when no group is waiting or being
 * committed (so it takes no write lock, and works on a cache that cannot be
 * written); otherwise it joins the group in its turn, so calls keep their
 * order and a read never sees a write that may yet be rolled back. A driver
 * error becomes the store's E_CACHE error.
 */
export function guard<T extends object>(
  impl: Sync<T>,
  methods: MethodNames<T>,
  location: string,
  outside: <R>(fn: () => R) => Promise<R>,
  busy: () => boolean,
): T {
  const face: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(methods)) {
    const method = (impl as Record<string, (...args: unknown[]) => unknown>)[name]!;
    face[name] =
      kind === 'write'
        ? (...args: unknown[]) => outside(() => callDriver(impl, method, args, location))
        : (...args: unknown[]) => {
            if (busy()) return outside(() => callDriver(impl, method, args, location));
            try {
              return Promise.resolve(callDriver(impl, method, args, location));
            } catch (error) {
              return Promise.reject(error);
            }
          };
  }
  return face as T;
}

/** Where a transaction's face keeps the token of its unit. */
const UNIT = Symbol('unit');

/**
 * The face of a synchronous implementation inside transactions, made once
 * per store: `inUnit(face, token)` gives each transaction its own view of
 * it, whose calls run at once while that transaction's unit runs (`current()`
 * is its token) and are refused after (a call left running past its
 * function must not join a later transaction).
 */
export function unitGuard<T extends object>(impl: Sync<T>, methods: MethodNames<T>, location: string, current: () => number): T {
  const face: Record<string, unknown> = {};
  for (const name of Object.keys(methods)) {
    const method = (impl as Record<string, (...args: unknown[]) => unknown>)[name]!;
    face[name] = function (this: { [UNIT]?: number } | undefined, ...args: unknown[]) {
      if (this?.[UNIT] === undefined || this[UNIT] !== current()) {
        return Promise.reject(new Error(`internal: a store call (${name}) through a transaction that has ended`));
      }
      try {
        return Promise.resolve(callDriver(impl, method, args, location));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return face as T;
}

/** A transaction's own view of a face made by `unitGuard`. */
export function inUnit<T extends object>(face: T, token: number): T {
  return Object.create(face, { [UNIT]: { value: token } }) as T;
}

function callDriver(impl: unknown, method: (...args: unknown[]) => unknown, args: unknown[], location: string): unknown {
  try {
    return method.apply(impl, args);
  } catch (error) {
    throw driverError(error, location);
  }
}

/** SQLite's own errors (disk full, I/O, locked) as the store's E_CACHE; anything else (a bug) as it is. */
export function driverError(error: unknown, location: string): unknown {
  return error instanceof Database.SqliteError ? new StoreError(error.message, location, { cause: error }) : error;
}
