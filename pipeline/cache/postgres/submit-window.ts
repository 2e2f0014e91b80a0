import type { AccountWindow, WindowOptions } from '../submit-window.ts';
import { decide } from '../submit-window.ts';
import { connect } from './db.ts';
import { migrate } from './migrations.ts';

/**
 * The submit window on the shared server, on a small pool of its own. A
 * per-account advisory transaction lock serializes takers: under READ
 * COMMITTED two transactions counting at once would both see room.
 */
export async function openPostgresWindow(url: string, account: string, options: WindowOptions): Promise<AccountWindow> {
  const server = connect(url);
  // Its tables may be new: a window opened before any store on this server still finds them.
  await migrate(server.sql, server.location);
  const { sql } = server;
  return {
    take: (n, now) =>
      sql.atomic(async (tx) => {
        await tx.rows("SELECT pg_advisory_xact_lock(hashtextextended('submit-window:' || $1, 0))", [account]);
        await tx.rows('DELETE FROM submit_starts WHERE account = $1 AND at <= $2', [account, now - options.windowMs]);
        const [{ live, oldest }] = await tx.rows<{ live: number; oldest: number | null }>('SELECT count(*) AS live, min(at) AS oldest FROM submit_starts WHERE account = $1', [account]);
        const [paused] = await tx.rows<{ until: number }>('SELECT until FROM submit_pauses WHERE account = $1', [account]);
        const { grant, retryAt } = decide({ want: n, limit: options.limit, windowMs: options.windowMs, now, live, oldest: oldest ?? undefined, pausedUntil: paused?.until ?? 0 });
        if (grant === 0) return { slots: [], retryAt };
        const rows = await tx.rows<{ slot: number }>('INSERT INTO submit_starts (account, at) SELECT $1, $2 FROM generate_series(1, $3) RETURNING slot', [account, now, grant]);
        return { slots: rows.map((r) => Number(r.slot)), retryAt };
      }),
    giveBack: async (slots) => {
      if (slots.length > 0) await sql.rows('DELETE FROM submit_starts WHERE account = $1 AND slot = ANY($2::bigint[])', [account, slots]);
    },
    touch: async (slot, at) => {
      // A row already aged out is put back: its start is still in the API's minute.
      await sql.rows('INSERT INTO submit_starts (slot, account, at) VALUES ($1, $2, $3) ON CONFLICT (slot) DO UPDATE SET at = greatest(submit_starts.at, excluded.at)', [slot, account, at]);
    },
    pause: async (until) => {
      await sql.rows('INSERT INTO submit_pauses (account, until) VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET until = greatest(submit_pauses.until, excluded.until)', [account, until]);
    },
    close: () => server.pool.end(),
  };
}
