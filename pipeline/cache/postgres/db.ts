/**
 * The connection to a PostgreSQL server: a pool, statements run on it or on
 * one client inside a transaction, and the driver's failures as the store's
 * E_CACHE errors. Everything of the Postgres backend reaches the server
 * through the {@link Sql} here, so no failure leaves it unwrapped.
 */
import pg from 'pg';
import { StoreError, StoreUnreachableError } from '../../errors.ts';

/** Runs statements: on the pool (each its own commit) or on the one client of an open transaction. */
export interface Sql {
  /** The rows of one statement (`$1`…: `values`). */
  rows<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** `fn` as one transaction: a client of its own from the pool, or, inside a transaction already, that one. */
  atomic<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
}

/** The server a URL names, as `postgres://host:port/database`: what messages show (never the user's password). */
export function serverName(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
    return `postgres://${host}:${u.port || '5432'}/${database}`;
  } catch {
    return 'postgres://(unreadable URL)';
  }
}

/** The URL's password, to scrub from any message that might echo it. */
function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

/**
 * bigint (counts, ids, seeds, bytes) and numeric (sums) as numbers, as
 * SQLite gives them: every value here stays far below 2^53.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Errors of the network or of a server going away (as opposed to one the server answered). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const CONNECTION_WORDS = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection ended|after calling end on the pool/i;
/** SQLSTATE classes of a connection lost or refused: 08 (connection exception), 57P01–57P03 (shut down, cannot connect now). */
const CONNECTION_STATES = /^(08|57P0[1-3])/;

export interface Server {
  pool: pg.Pool;
  /** `postgres://host:port/database`, for messages. */
  location: string;
  sql: Sql;
  /** A driver failure as the store's E_CACHE error; anything else (a bug, a caller's own error) as it is. */
  fail(error: unknown): unknown;
}

/** A pool on `url`. Nothing is connected until the first statement. */
export function connect(url: string): Server {
  const location = serverName(url);
  const password = passwordOf(url);
  const scrub = (text: string) => (password ? text.split(password).join('***') : text);
  const fail = (error: unknown): unknown => {
    if (error instanceof StoreError) return error;
    const e = error as { code?: unknown; message?: unknown } | undefined;
    const code = typeof e?.code === 'string' ? e.code : '';
    const detail = scrub(String(e?.message ?? error) || code);
    if (CONNECTION_CODES.has(code) || CONNECTION_STATES.test(code) || CONNECTION_WORDS.test(detail)) return new StoreUnreachableError(detail, location, { cause: error });
    if (error instanceof pg.DatabaseError) return new StoreError(detail, location, { cause: error });
    return error;
  };
  const pool = new pg.Pool({
    connectionString: url,
    types,
    application_name: 'duologue',
    // A server that does not answer is an error, not a run that hangs.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  // An idle client whose server went away: dropped by the pool; the next statement says why.
  pool.on('error', () => {});
  const sql: Sql = {
    async rows<R>(text: string, values?: readonly unknown[]) {
      try {
        return (await pool.query(text, values as unknown[])).rows as R[];
      } catch (error) {
        throw fail(error);
      }
    },
    atomic: (fn) => transaction(pool, fail, fn),
  };
  return { pool, location, sql, fail };
}

/**
 * `fn` as one transaction on a client of its own (other callers keep the
 * pool's other clients: transactions run side by side, each on its own
 * connection). After it ends, its {@link Sql} refuses every call.
 */
export async function transaction<T>(pool: pg.Pool, fail: (error: unknown) => unknown, fn: (sql: Sql) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw fail(error);
  }
  // A checked-out client whose server goes away emits 'error' between statements; the next statement
  // fails ("not queryable"), and the server's own words say why.
  let lost: unknown;
  const onError = (error: unknown) => void (lost ??= error);
  client.on('error', onError);
  let live = true;
  const sql: Sql = {
    async rows<R>(text: string, values?: readonly unknown[]) {
      if (!live) throw new Error('internal: a store call through a transaction that has ended');
      try {
        return (await client.query(text, values as unknown[])).rows as R[];
      } catch (error) {
        throw fail(lost ?? error);
      }
    },
    // Already in one: its statements join it (as SQLite's do).
    atomic: (inner) => inner(sql),
  };
  let broken: Error | undefined;
  try {
    await sql.rows('BEGIN');
    const result = await fn(sql);
    await sql.rows('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollback) {
      broken = rollback as Error; // the connection is gone: the server drops the transaction, the pool the client
    }
    throw fail(error);
  } finally {
    live = false;
    client.off('error', onError);
    client.release(broken);
  }
}
