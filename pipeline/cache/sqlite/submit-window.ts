import type { AccountWindow, WindowOptions } from '../submit-window.ts';
import { decide } from '../submit-window.ts';
import { openDb } from './db.ts';

/**
 * The submit window on the cache dir's database, on its own connection.
 * BEGIN IMMEDIATE takes the write lock before counting: two processes
 * counting under a read lock would both see room and both grant it.
 */
export function openSqliteWindow(dir: string, account: string, options: WindowOptions): AccountWindow {
  const db = openDb(dir);
  const prune = db.prepare('DELETE FROM submit_starts WHERE account = ? AND at <= ?');
  const count = db.prepare('SELECT count(*) AS live, min(at) AS oldest FROM submit_starts WHERE account = ?');
  const pausedQ = db.prepare('SELECT until FROM submit_pauses WHERE account = ?');
  const insert = db.prepare('INSERT INTO submit_starts (account, at) VALUES (?, ?)');
  const remove = db.prepare('DELETE FROM submit_starts WHERE account = ? AND slot = ?');
  const pauseQ = db.prepare('INSERT INTO submit_pauses (account, until) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET until = max(until, excluded.until)');
  // A row already aged out is put back: its start is still in the API's minute.
  const touchQ = db.prepare('INSERT INTO submit_starts (slot, account, at) VALUES (?, ?, ?) ON CONFLICT (slot) DO UPDATE SET at = max(at, excluded.at)');
  const take = db.transaction((n: number, now: number) => {
    prune.run(account, now - options.windowMs);
    const { live, oldest } = count.get(account) as { live: number; oldest: number | null };
    const paused = pausedQ.get(account) as { until: number } | undefined;
    const { grant, retryAt } = decide({ want: n, limit: options.limit, windowMs: options.windowMs, now, live, oldest: oldest ?? undefined, pausedUntil: paused?.until ?? 0 });
    const slots: number[] = [];
    for (let i = 0; i < grant; i++) slots.push(Number(insert.run(account, now).lastInsertRowid));
    return { slots, retryAt };
  });
  const giveBack = db.transaction((slots: readonly number[]) => {
    for (const slot of slots) remove.run(account, slot);
  });
  return {
    take: async (n, now) => take.immediate(n, now),
    giveBack: async (slots) => {
      if (slots.length > 0) giveBack.immediate(slots);
    },
    touch: async (slot, at) => {
      touchQ.run(slot, account, at);
    },
    pause: async (until) => {
      pauseQ.run(account, until);
    },
    close: async () => {
      db.close();
    },
  };
}
