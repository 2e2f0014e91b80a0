import type { Sql } from './db.ts';

/**
 * The database server's clock, read locally: every time a shared store
 * writes or compares (leases, heartbeats, a submit's end) is on one clock
 * for all machines, so a machine whose clock runs minutes behind cannot make
 * a live worker's lease look lapsed, nor its own look longer. The server's
 * time is sampled (clock_timestamp(), taken at the midpoint of the round
 * trip) against this machine's monotonic clock, so a local clock set back or
 * forward (NTP, a person) changes nothing; samples are taken again with the
 * heartbeat, which bounds the monotonic clock's drift.
 */
export interface ServerClock {
  now: () => number;
  /** Samples the server's time again. */
  sync: () => Promise<void>;
}

/** @param local this machine's clock, only ever compared with itself (tests skew it). @default performance.now */
export async function serverClock(sql: Sql, local: () => number = () => performance.now()): Promise<ServerClock> {
  let offset = 0;
  let bestRoundTrip = Infinity;
  let sampledAt = 0;
  const sync = async () => {
    const t0 = local();
    const [row] = await sql.rows<{ ms: number }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS ms');
    const t1 = local();
    const roundTrip = t1 - t0;
    // A slow answer says less about when the server read its clock: kept only if no better sample is recent.
    if (roundTrip > bestRoundTrip * 4 && t1 - sampledAt < RESAMPLE_MS) return;
    bestRoundTrip = Math.min(bestRoundTrip, roundTrip);
    offset = Number(row.ms) - (t0 + t1) / 2;
    sampledAt = t1;
  };
  await sync();
  return { now: () => Math.round(local() + offset), sync };
}

/** How long a sample taken on a fast round trip is preferred over one taken on a slow one. */
const RESAMPLE_MS = 10 * 60_000;
