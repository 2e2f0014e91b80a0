/**
 * What only a shared server has to prove: workers on several machines (here,
 * stores with pools of their own) racing for the same keys never both get
 * one; workers starting at once migrate the schema once; a server that goes
 * away is the store's E_CACHE error, naming the server and never the
 * password, and the next call after it is back works.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimRequest, Store } from '../../pipeline/cache/interfaces.ts';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import { migrate, MIGRATIONS } from '../../pipeline/cache/postgres/migrations.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { StoreUnreachableError } from '../../pipeline/errors.ts';
import { PASSWORD, usePostgres } from '../helpers/postgres.ts';
import { INPUTS } from './contract.ts';

const server = usePostgres();
const LEASE = 30_000;
const KEYS = Array.from({ length: 50 }, (_, i) => `key-${String(i).padStart(2, '0')}`);
const req = (key: string): ClaimRequest => ({ key, inputs: INPUTS, episodeId: 'e', sceneId: key, estimateUsd: 0.15 });

const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

/** A fresh database and a clock; `machine(name)` opens a store on it as a worker of another host (its own pool, its own cache dir). */
async function cluster() {
  const url = await server.fresh();
  const clock = { now: 1_000_000 };
  const machine = async (name: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), `dl-pg-${name}-`));
    const store = await openStore({ url, dir, owner: `${name}:100:1:${name}`, leaseMs: LEASE, now: () => clock.now });
    opened.push(store);
    return store;
  };
  return { url, clock, machine };
}

/** For each key, how many of `results` (one array per racer, in KEYS order) satisfy `won`. */
function winnersPerKey<T>(results: T[][], won: (r: T) => boolean): number[] {
  return KEYS.map((_, i) => results.filter((r) => won(r[i])).length);
}

describe('postgres: workers on several machines', () => {
  it('two machines claiming the same 50 keys at once: each key is claimed by exactly one, new or lapsed', async () => {
    const { clock, machine } = await cluster();
    const a = await machine('machine-a');
    const b = await machine('machine-b');
    const race = () => Promise.all([a, b].map((s) => Promise.all(KEYS.map((k) => s.renders.claim(req(k))))));

    // New keys: both try to create each row.
    const first = await race();
    expect(winnersPerKey(first, (r) => r.kind === 'claimed')).toEqual(KEYS.map(() => 1));
    expect(winnersPerKey(first, (r) => r.kind === 'busy')).toEqual(KEYS.map(() => 1));
    // Lapsed claims: both find each row free to take over (the row lock decides).
    clock.now += LEASE + 1_000;
    const second = await race();
    expect(winnersPerKey(second, (r) => r.kind === 'claimed')).toEqual(KEYS.map(() => 1));
    // The row says the same as the answers: its owner is the one told "claimed".
    const rows = await a.renders.getMany(KEYS);
    for (const [i, key] of KEYS.entries()) {
      const winner = second[0][i].kind === 'claimed' ? a : b;
      expect(rows.get(key)?.owner, key).toBe(winner.renders.owner);
    }
  });

  it('after a lease lapses, the old holder and two machines taking over race to mark submitting: exactly one may submit each key', async () => {
    const { clock, machine } = await cluster();
    const slow = await machine('machine-slow');
    const b = await machine('machine-b');
    const c = await machine('machine-c');
    for (const k of KEYS) expect((await slow.renders.claim(req(k))).kind).toBe('claimed');
    clock.now += LEASE + 1_000; // slow was paused or partitioned past its lease
    const takeOver = (s: Store) => Promise.all(KEYS.map(async (k) => (await s.renders.claim(req(k))).kind === 'claimed' && (await s.renders.markSubmitting(k, `{"by":"${s.renders.owner}"}`))));
    // The old holder goes through the keys the other way round: for some keys it comes first, for others last.
    const late = Promise.all([...KEYS].reverse().map((k) => slow.renders.markSubmitting(k, `{"by":"${slow.renders.owner}"}`))).then((r) => r.reverse());
    const results = await Promise.all([late, takeOver(b), takeOver(c)]);
    expect(winnersPerKey(results, (submitted) => submitted === true)).toEqual(KEYS.map(() => 1));
    const rows = await b.renders.getMany(KEYS);
    for (const key of KEYS) expect(rows.get(key), key).toMatchObject({ status: 'submitting', attempts: 1, submit_sent: `{"by":"${rows.get(key)?.owner}"}` });
  });

  it('workers starting at once on a new database migrate it once; a failed migration leaves nothing; a newer schema is refused', async () => {
    const { url, machine } = await cluster();
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map((name) => machine(name)));
    const db = connect(url);
    try {
      expect((await db.sql.rows<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      // All of a migration run is one transaction: the broken second step takes the first with it.
      const broken = [...MIGRATIONS, 'CREATE TABLE half_done (x integer)', 'SELECT 1 / 0'];
      await expect(migrate(db.sql, db.location, broken)).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringContaining('division by zero') });
      expect(await db.sql.rows("SELECT to_regclass('half_done') AS t")).toEqual([{ t: null }]);
      expect((await db.sql.rows<{ n: number }>('SELECT count(*) n FROM schema_version'))[0].n).toBe(MIGRATIONS.length);
      // A database a newer duologue migrated: this one says so instead of using it.
      await db.sql.rows('INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)', [MIGRATIONS.length + 1]);
      await expect(machine('old-duologue')).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringContaining(`schema version ${MIGRATIONS.length + 1}, newer than this duologue knows`) });
    } finally {
      await db.pool.end();
    }
  });
});

describe('postgres: the server goes away', () => {
  it('a stopped server is E_STORE naming host:port/database, never the password; the transaction under way lands nothing; back up, the store works again', async () => {
    const { url, machine } = await cluster();
    const store = await machine('machine-a');
    const server_ = `postgres://127.0.0.1:${server.port()}/${new URL(url).pathname.slice(1)}`;
    expect(store.location).toBe(server_);
    expect((await store.renders.claim(req('k'))).kind).toBe('claimed');
    const run = await store.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 });
    // Several connections open and idle in the pool when the server goes: each hears it go (unheard, that would crash the process).
    await Promise.all(KEYS.slice(0, 4).map((k) => store.renders.get(k)));

    // Mid-transaction: it has written, the server stops before the commit.
    let stopped!: () => void;
    const gate = new Promise<void>((resolve) => (stopped = resolve));
    const inside = new Promise<void>((resolve) => {
      void store
        .transaction(async (tx) => {
          await tx.renders.markSubmitting('k', '{}');
          await tx.ledger.scene(run, { episodeId: 'e', sceneId: 'k', key: 'k', outcome: 'in-flight', costUsd: 0.3 });
          resolve();
          await gate;
          await tx.renders.markInFlight('k', 'pred-1');
        })
        .then(
          () => failures.push(undefined),
          (e: unknown) => failures.push(e),
        );
    });
    const failures: unknown[] = [];
    await inside;
    await server.stop();
    stopped();
    await expect.poll(() => failures.length).toBe(1);
    // A call made while it is down: the connection is refused.
    failures.push(await store.renders.get('k').catch((e: unknown) => e));
    failures.push(await machine('machine-b').catch((e: unknown) => e)); // opening one, too
    for (const error of failures) {
      expect(error).toBeInstanceOf(StoreUnreachableError);
      expect(error).toMatchObject({ code: 'E_STORE', message: expect.stringContaining(`the cache database at ${server_} cannot be reached: `) });
      // Nor anywhere in it (its cause, the driver's error, included), however deeply it is printed.
      expect(inspect(error, { depth: 20 })).not.toContain(PASSWORD);
    }
    expect((failures[1] as StoreUnreachableError).detail).toMatch(/ECONNREFUSED/);

    await server.start();
    // The pool connects again; nothing of the broken transaction landed.
    expect(await store.renders.get('k')).toMatchObject({ status: 'pending', attempts: 0, prediction_id: null, owner: store.renders.owner });
    expect((await store.admin.recentRuns(1))[0].run.spent_usd).toBe(0);
    expect(await store.renders.markSubmitting('k')).toBe(true);
  });

  it('a password the driver echoes is blanked from the message; errors of the caller pass as they are', async () => {
    const url = `postgres://someone:${encodeURIComponent(PASSWORD)}@db.example.invalid:6543/prod`;
    const { fail, location, pool } = connect(url);
    await pool.end();
    expect(location).toBe('postgres://db.example.invalid:6543/prod');
    const echoed = Object.assign(new Error(`connect ECONNREFUSED (login someone/${PASSWORD})`), { code: 'ECONNREFUSED' });
    const error = fail(echoed) as StoreUnreachableError;
    expect(error).toBeInstanceOf(StoreUnreachableError);
    expect(error.message).toBe('the cache database at postgres://db.example.invalid:6543/prod cannot be reached: connect ECONNREFUSED (login someone/***)');
    const mine = new Error('boom');
    expect(fail(mine)).toBe(mine);
    // A statement the server refused is E_CACHE too, as SQLite's errors are.
    expect(fail(new pg.DatabaseError('disk full', 0, 'error'))).toMatchObject({ code: 'E_CACHE', message: 'the cache database in postgres://db.example.invalid:6543/prod could not be written: disk full' });
  });

  it('a URL that is not postgres:// is a usage error, without echoing it', async () => {
    await expect(openStore({ dir: ':memory:', url: `mysql://root:${PASSWORD}@h/db` })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.not.stringContaining(PASSWORD) });
  });
});
