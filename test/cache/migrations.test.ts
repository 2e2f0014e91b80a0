/**
 * A cache written by the previous duologue opens with this one: its data is
 * kept (renders, the ledger, memos), the schema ends up exactly as a new
 * cache's, and what the new columns carry works on old rows and new ones.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB_FILE, openDb, type Db } from '../../pipeline/cache/sqlite/db.ts';
import { MIGRATIONS } from '../../pipeline/cache/sqlite/migrations.ts';
import { openStore, type Store } from '../../pipeline/cache/store.ts';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import { migrate, MIGRATIONS as PG_MIGRATIONS } from '../../pipeline/cache/postgres/migrations.ts';
import { usePostgres } from '../helpers/postgres.ts';

const pgServer = usePostgres();
const INPUTS_OLD = { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: '', order: 'meanwhile', resolution: '480p', seed: 1 } as const;

const CURRENT = MIGRATIONS.length;
const TABLES = ['file_memo', 'uploads', 'renders', 'scene_keys', 'runs', 'run_scenes'];
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 12);

/** A cache folder whose database is at schema `version`, as that duologue left it. */
function cacheAt(version: number): { dir: string; db: Database.Database } {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-migrate-'));
  const db = new Database(path.join(dir, DB_FILE));
  db.pragma('journal_mode = WAL');
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  return { dir, db };
}

const schema = (db: Db) => Object.fromEntries(TABLES.map((t) => [t, db.pragma(`table_info(${t})`)]));
const rows = (db: Db, table: string, order: string) => db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all() as Record<string, unknown>[];

/** Rows as the previous version wrote them: a complete render, one in flight, a finished run that submitted it. */
function fill(db: Database.Database): void {
  const inputs = JSON.stringify({ provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: '', order: 'meanwhile', resolution: '480p', seed: 1 });
  db.prepare('INSERT INTO file_memo (path, size, mtime_ns, ino, sha256, probe, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run('/m/a.wav', 10, '1', '2', 'sha-a', '{}', T0);
  db.prepare('INSERT INTO uploads (provider, sha256, url, uploaded_at) VALUES (?, ?, ?, ?)').run('wavespeed', 'sha-a', 'https://cdn/a.wav', T0);
  const render = db.prepare(
    `INSERT INTO renders (key, provider, model, status, prediction_id, episode_id, scene_id, seed, inputs, estimate_usd, clip_path, clip_sha256, clip_bytes,
       video_seconds, billed_seconds, cost_usd, attempts, paid_attempts, prediction_ids, created_at, updated_at, submitted_at, completed_at)
     VALUES (?, 'wavespeed', 'm', ?, ?, 'e', ?, 1, ?, 0.15, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
  );
  render.run('k-done', 'complete', 'pred-0', 'done', inputs, '/c/k-done.mp4', 'sha-clip', 1234, 2.5, 5, 0.15, 1, '["pred-0"]', T0, T0 + HOUR, T0, T0 + HOUR);
  render.run('k-flying', 'in-flight', 'pred-1', 'flying', inputs, null, null, null, null, null, null, 0, '["pred-1"]', T0, T0 + 2 * HOUR, T0 + 2 * HOUR, null);
  db.prepare('INSERT INTO scene_keys (episode_id, scene_id, key, inputs, updated_at) VALUES (?, ?, ?, ?, ?)').run('e', 'done', 'k-done', inputs, T0);
  db.prepare('INSERT INTO runs (started_at, finished_at, pid, provider, args, budget_usd, planned_usd, spent_usd, result, note) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)').run(
    T0 + HOUR,
    T0 + 3 * HOUR,
    'wavespeed',
    '["render"]',
    1,
    0.15,
    0.15,
    'interrupted',
    'stopped by the user',
  );
  db.prepare('INSERT INTO run_scenes (run_id, episode_id, scene_id, key, outcome, cost_usd, error) VALUES (1, ?, ?, ?, ?, ?, ?)').run('e', 'flying', 'k-flying', 'interrupted', 0.15, 'interrupted');
}

describe('opening a cache of the previous schema version', () => {
  it(`v${CURRENT - 1} → v${CURRENT}: every row kept, the schema a new cache has, and the new columns work`, async () => {
    const old = cacheAt(CURRENT - 1);
    fill(old.db);
    const before = Object.fromEntries(TABLES.map((t) => [t, rows(old.db, t, 'rowid')]));
    old.db.close();

    const db = openDb(old.dir);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(CURRENT);
      const fresh = openDb(':memory:');
      expect(schema(db)).toEqual(schema(fresh));
      fresh.close();
      // Every old value is where it was; added columns hold their defaults.
      for (const t of TABLES) {
        const after = rows(db, t, 'rowid');
        expect(after).toHaveLength(before[t].length);
        after.forEach((row, i) => expect(row, t).toMatchObject(before[t][i]));
      }

      // The old run's charge still reconciles: it has no prediction of its own on record, so the key's, by time.
      const store = await openStore({ dir: old.dir, owner: 'host:1:1:new', now: () => T0 + 5 * HOUR });
      const { ledger, renders } = store;
      expect(await ledger.charges((await ledger.run(1, 'wavespeed'))!)).toEqual([{ episodeId: 'e', sceneId: 'flying', key: 'k-flying', outcome: 'interrupted', costUsd: 0.15, predictionId: 'pred-1' }]);
      expect(await ledger.knowsPrediction('pred-0')).toBe(true);

      // A run of this version resumes the old in-flight render and books a new submit with its own prediction.
      expect(await renders.claim({ key: 'k-flying', inputs: JSON.parse(String(before.renders[1].inputs)), episodeId: 'e', sceneId: 'flying', estimateUsd: 0.15 })).toMatchObject({
        kind: 'claimed',
        row: { status: 'in-flight', prediction_id: 'pred-1', output_misses: 0, refused: 0 },
      });
      const run = await ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0.15 });
      await ledger.scene(run, { episodeId: 'e', sceneId: 'new', key: 'k-new', outcome: 'in-flight', costUsd: 0.15 });
      await ledger.submitted(run, { episodeId: 'e', sceneId: 'new' }, 'pred-2');
      expect(await ledger.charges((await ledger.run(run, 'wavespeed'))!)).toEqual([{ episodeId: 'e', sceneId: 'new', key: 'k-new', outcome: 'in-flight', costUsd: 0.15, predictionId: 'pred-2' }]);
      expect(await renders.missedOutput('k-flying')).toBe(1);
      await store.close();
    } finally {
      db.close();
    }
  });

  it('from every older version too: the same schema as a new cache, rows kept', () => {
    for (let v = 3; v < CURRENT - 1; v++) {
      const old = cacheAt(v);
      old.db.prepare("INSERT INTO runs (started_at, pid, provider, args, planned_usd) VALUES (1, 1, 'local', '[]', 0)").run();
      old.db.close();
      const db = openDb(old.dir);
      const fresh = openDb(':memory:');
      expect(db.pragma('user_version', { simple: true }), `from v${v}`).toBe(CURRENT);
      expect(schema(db), `from v${v}`).toEqual(schema(fresh));
      expect(rows(db, 'runs', 'id'), `from v${v}`).toHaveLength(1);
      fresh.close();
      db.close();
    }
  });

  it('a cache from a newer duologue is refused, untouched', () => {
    const newer = cacheAt(CURRENT);
    newer.db.pragma(`user_version = ${CURRENT + 1}`);
    newer.db.close();
    expect(() => openDb(newer.dir)).toThrow(expect.objectContaining({ code: 'E_CACHE', message: expect.stringMatching(new RegExp(`schema version ${CURRENT + 1}, newer than this duologue knows \\(${CURRENT}\\)`)) }));
    const db = new Database(path.join(newer.dir, DB_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(CURRENT + 1);
    db.close();
  });
});

/**
 * Issue 13's fencing columns, on both backends: a render of the previous
 * version (epoch 0, no token) is claimed at epoch 1 and its stale holder is
 * fenced off; an old run has no owner or heartbeat, a new one has both.
 */
describe('fencing tokens on a state of the previous version', () => {
  const claimFlying = { key: 'k-flying', inputs: INPUTS_OLD, episodeId: 'e', sceneId: 'flying', estimateUsd: 0.15 };
  /** A store opened on a cache a previous duologue migrated: its old claim is taken at epoch 1 and fenced; old runs have no owner, new ones do. */
  const expectFencedUpgrade = async (store: Store) => {
    expect(await store.renders.get('k-flying')).toMatchObject({ claim_epoch: 0, status: 'in-flight' });
    expect(await store.renders.claim(claimFlying)).toMatchObject({ kind: 'claimed', row: { claim_epoch: 1, prediction_id: 'pred-1' } });
    expect(await store.renders.markSubmitting('k-flying')).toBe(true);
    const run = await store.ledger.start({ provider: 'wavespeed', args: ['render'], plannedUsd: 0 });
    const runs = await store.admin.recentRuns(5);
    expect(runs.find((r) => r.run.id === 1)?.run).toMatchObject({ owner: null, heartbeat_at: null, lease_ms: null });
    expect(runs.find((r) => r.run.id === run)?.run).toMatchObject({ owner: 'host:1:1:new', heartbeat_at: T0 + 5 * HOUR, lease_ms: 9_000 });
  };

  it(`SQLite v10 → v11: old renders start at epoch 0 and the next claim takes 1; old runs have no owner, new ones do`, async () => {
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(11);
    const old = cacheAt(10);
    fill(old.db);
    old.db.close();
    const store = await openStore({ dir: old.dir, owner: 'host:1:1:new', leaseMs: 9_000, now: () => T0 + 5 * HOUR });
    try {
      await expectFencedUpgrade(store);
    } finally {
      await store.close();
    }
  });

  it('Postgres v1 → v2: the same, on a server a previous duologue migrated', async () => {
    const url = await pgServer.fresh();
    const server = connect(url);
    try {
      await migrate(server.sql, server.location, PG_MIGRATIONS.slice(0, 1));
      await server.sql.rows(
        `INSERT INTO renders (key, provider, model, status, prediction_id, episode_id, scene_id, seed, inputs, estimate_usd, attempts, prediction_ids, created_at, updated_at, submitted_at)
         VALUES ('k-flying', 'wavespeed', 'm', 'in-flight', 'pred-1', 'e', 'flying', 1, $1, 0.15, 1, '["pred-1"]', $2, $2, $2)`,
        [JSON.stringify(INPUTS_OLD), T0],
      );
      await server.sql.rows("INSERT INTO runs (started_at, pid, provider, args, planned_usd) VALUES ($1, 1, 'wavespeed', '[]', 0)", [T0]);
    } finally {
      await server.pool.end();
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-migrate-pg-'));
    const store = await openStore({ url, dir, owner: 'host:1:1:new', leaseMs: 9_000, now: () => T0 + 5 * HOUR });
    try {
      await expectFencedUpgrade(store);
    } finally {
      await store.close();
    }
  });
});
