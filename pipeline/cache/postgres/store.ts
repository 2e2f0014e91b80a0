/**
 * The shared store: renders and claims, the run ledger and the upload memo on
 * a PostgreSQL server that workers on several machines use at once; the
 * media memo stays in this machine's cache dir. Statements outside a
 * transaction run on any of the pool's connections; `transaction` takes one
 * connection for itself, so transactions of one store run side by side.
 */
import type { Store, StoreOptions, StoreParts, UploadMemo } from '../interfaces.ts';
import { newOwnerId } from '../owner.ts';
import { openLocalFileMemo } from '../sqlite/local-memo.ts';
import { createAdmin } from './admin.ts';
import { connect, transaction, type Sql } from './db.ts';
import { migrate } from './migrations.ts';
import { PgRenders } from './renders.ts';
import { PgLedger } from './runs.ts';
import { serverClock } from './server-clock.ts';
import { PgStitches } from './stitches.ts';
import { createUploadMemo } from './uploads.ts';

/** Opens the store on `options.url` (migrating its schema), with the media memo in `options.dir`. */
export async function openPostgresStore(options: StoreOptions & { url: string }): Promise<Store> {
  const server = connect(options.url);
  const owner = options.owner ?? newOwnerId();
  let local: ReturnType<typeof openLocalFileMemo>;
  let now: () => number;
  /** Samples the server's clock again (with the heartbeat); a failed sample keeps the last one. */
  let resync = async () => {};
  try {
    // Leases and heartbeats on the server's clock: machines' clocks may disagree by minutes.
    if (options.now) now = options.now;
    else {
      const clock = await serverClock(server.sql, options.localClock);
      now = clock.now;
      resync = () => clock.sync().catch(() => {});
    }
    await migrate(server.sql, server.location, undefined, now);
    local = openLocalFileMemo(options.dir, now);
  } catch (error) {
    await server.pool.end().catch(() => {});
    throw error;
  }

  /** The parts on `sql`: the pool's, or one transaction's client. */
  const leaseMs = options.leaseMs ?? 30_000;
  // The claims' fencing tokens, shared by the pool's parts and every transaction's.
  const epochs = new Map<string, number>();
  const parts = (sql: Sql): StoreParts => {
    const uploads = new Map<string, UploadMemo>();
    return {
      renders: new PgRenders(sql, owner, now, leaseMs, epochs, resync),
      ledger: new PgLedger(sql, now, owner, leaseMs),
      // Local, so not part of a transaction: a memo written by one that rolls back still tells the truth about the file.
      files: local.files,
      uploads: (provider) => uploads.get(provider) ?? uploads.set(provider, createUploadMemo(sql, provider, now)).get(provider)!,
    };
  };

  return {
    location: server.location,
    ...parts(server.sql),
    admin: createAdmin(server.sql, local.count, now),
    stitches: new PgStitches(server.sql, owner, now, leaseMs),
    transaction: (fn) => transaction(server.pool, server.fail, (sql) => fn(parts(sql))),
    async close() {
      await Promise.all([server.pool.end(), local.close()]);
    },
  };
}
