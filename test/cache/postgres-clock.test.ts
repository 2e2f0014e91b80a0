/**
 * A shared store's leases are on the database server's clock (postgres/
 * server-clock.ts), not each machine's: a machine whose clock runs an hour
 * behind still holds a live claim, and one an hour ahead cannot take it.
 * The control case shows what local clocks did: the skewed machine's lease
 * looked lapsed the moment it was written.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ClaimRequest, Store, StoreOptions } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { query } from '../helpers/attack-hosts.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { INPUTS } from './contract.ts';

const server = usePostgres();
const LEASE = 30_000;
const HOUR = 3_600_000;
const req = (key: string): ClaimRequest => ({ key, inputs: INPUTS, episodeId: 'e', sceneId: key, estimateUsd: 0.15 });

const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

async function machine(url: string, name: string, clock: Pick<StoreOptions, 'now' | 'localClock'>): Promise<Store> {
  const dir = mkdtempSync(path.join(tmpdir(), `dl-pg-clock-${name}-`));
  const store = await openStore({ url, dir, owner: `${name}:100:1:${name}`, leaseMs: LEASE, ...clock });
  opened.push(store);
  return store;
}

it('an hour of skew either way: a live claim stays live, and its lease is the server time plus the lease', async () => {
  const url = await server.fresh();
  const behind = await machine(url, 'machine-behind', { localClock: () => performance.now() - HOUR });
  const ahead = await machine(url, 'machine-ahead', { localClock: () => performance.now() + HOUR });
  expect((await behind.renders.claim(req('k1'))).kind).toBe('claimed');
  expect((await ahead.renders.claim(req('k1'))).kind).toBe('busy');
  expect((await ahead.renders.claim(req('k2'))).kind).toBe('claimed');
  expect((await behind.renders.claim(req('k2'))).kind).toBe('busy');
  const rows = await query<{ key: string; lease_until: number; server_ms: number }>(url, 'SELECT key, lease_until::float8 AS lease_until, (extract(epoch from clock_timestamp()) * 1000)::float8 AS server_ms FROM renders ORDER BY key');
  for (const r of rows) expect(Math.abs(r.lease_until - LEASE - r.server_ms), r.key).toBeLessThan(5_000);
  // The heartbeat samples the server's clock again and keeps it there.
  await behind.renders.renew();
  expect((await ahead.renders.claim(req('k1'))).kind).toBe('busy');
});

it('control: on each machine\'s own clock, the machine an hour behind loses its live claim at once', async () => {
  const url = await server.fresh();
  const behind = await machine(url, 'machine-behind', { now: () => Date.now() - HOUR });
  const ahead = await machine(url, 'machine-ahead', { now: () => Date.now() });
  expect((await behind.renders.claim(req('k1'))).kind).toBe('claimed');
  expect((await ahead.renders.claim(req('k1'))).kind).toBe('claimed');
});
