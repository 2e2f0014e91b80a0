/**
 * {@link RenderStore} on a PostgreSQL server, shared by workers on many
 * machines. Same rules as the SQLite backend (sqlite/renders.ts), which is
 * the reference; what differs is how they hold across processes:
 *
 * - `claim` reads the row `FOR UPDATE` inside a transaction, decides in
 *   JavaScript (lease against the store's clock, owner's pid), and writes:
 *   a second claimant waits on the row lock and then sees the first one's
 *   claim. A key with no row yet is inserted with ON CONFLICT DO NOTHING, so
 *   of two first claims one inserts and the other finds the row.
 * - Every conditional write of a holder is one UPDATE whose WHERE carries the
 *   condition (`owner` is still us, the render is not complete). Postgres
 *   takes the row lock for it and checks the WHERE again on the newest
 *   committed row before writing, so it is a compare-and-set: a lock taken
 *   with SELECT … FOR UPDATE first would guard nothing more, for three more
 *   round trips. The owner (`host:pid:start:nonce`, a fresh nonce per store)
 *   and the claim's epoch (one higher for every claim, in the claiming
 *   transaction) are the claim's fencing token.
 */
import type { CacheKeyInput } from '../../plan/key.ts';
import type { ClaimRequest, ClaimResult, ClipRecord, FailOptions, RenderRow, RenderStatus, RenderStore } from '../interfaces.ts';
import { ownerAlive } from '../owner.ts';
import type { Sql } from './db.ts';

/** The columns of a {@link RenderRow}, in the order SQLite lists them. */
export const RENDER_COLUMNS =
  'key, provider, model, status, prediction_id, episode_id, scene_id, seed, inputs, estimate_usd, clip_path, clip_sha256, clip_bytes, video_seconds, billed_seconds, cost_usd, error, attempts, owner, lease_until, created_at, updated_at, submitted_at, completed_at, paid_attempts, submit_sent, refused, prediction_ids, output_misses, claim_epoch';

/** SQL appending the text parameter `p` to the key's JSON list of prediction ids, written compact as SQLite's json_insert does. */
export function appendPredictionId(p: string): string {
  return `CASE WHEN prediction_ids IS NULL OR prediction_ids = '[]' THEN '[' || to_json(${p}::text)::text || ']'
               ELSE left(prediction_ids, -1) || ',' || to_json(${p}::text)::text || ']' END`;
}

export class PgRenders implements RenderStore {
  constructor(
    private sql: Sql,
    readonly owner: string,
    private now: () => number = Date.now,
    readonly leaseMs = 30_000,
    /**
     * The epoch (fencing token) of each claim this store holds (shared with the
     * store's transactions). Every later write of a claim is conditional on
     * (owner, epoch): a worker paused past its lease writes nothing.
     */
    private epochs = new Map<string, number>(),
    /** Samples the server's clock again, with each heartbeat (server-clock.ts). */
    private resync: () => Promise<void> = async () => {},
  ) {}

  readonly clock = { now: () => this.now() };

  /** This store's token for the key; -1 (matches no row) when it holds no claim on it. */
  private epoch(key: string): number {
    return this.epochs.get(key) ?? -1;
  }

  async get(key: string): Promise<RenderRow | undefined> {
    return (await this.sql.rows<RenderRow>(`SELECT ${RENDER_COLUMNS} FROM renders WHERE key = $1`, [key]))[0];
  }

  async getMany(keys: readonly string[]): Promise<Map<string, RenderRow>> {
    const rows = await this.sql.rows<RenderRow>(`SELECT ${RENDER_COLUMNS} FROM renders WHERE key = ANY($1::text[])`, [[...new Set(keys)]]);
    return new Map(rows.map((r) => [r.key, r]));
  }

  claim(req: ClaimRequest): Promise<ClaimResult> {
    return this.sql.atomic(async (tx): Promise<ClaimResult> => {
      const now = this.now();
      const [inserted] = await tx.rows<RenderRow>(
        `INSERT INTO renders (key, provider, model, status, episode_id, scene_id, seed, inputs, estimate_usd, owner, lease_until, claim_epoch, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)
         ON CONFLICT (key) DO NOTHING RETURNING ${RENDER_COLUMNS}`,
        [req.key, req.inputs.provider, req.inputs.model, req.episodeId, req.sceneId, req.inputs.seed, JSON.stringify(req.inputs), req.estimateUsd, this.owner, now + this.leaseMs, now],
      );
      if (inserted) return this.claimed(inserted);
      // Held until this transaction ends: a second claimant waits here, then sees this one's claim.
      const [row] = await tx.rows<RenderRow>(`SELECT ${RENDER_COLUMNS} FROM renders WHERE key = $1 FOR UPDATE`, [req.key]);
      if (!row) throw new Error(`internal: render ${req.key} vanished while being claimed`);
      if (row.status === 'complete') return { kind: 'complete', row };
      // A key this store already holds is busy too: one job per claim (a second would write under the same token).
      if (row.owner === this.owner && this.epochs.get(req.key) === row.claim_epoch) return { kind: 'busy', row };
      if (row.owner && row.owner !== this.owner && ownerAlive(row.owner, row.lease_until ?? 0, now)) return { kind: 'busy', row };
      // Free, expired, or a dead owner's: take it over where it stands (see sqlite/renders.ts).
      const status: RenderStatus = row.status === 'failed' ? 'pending' : row.status;
      const [claimed] = await tx.rows<RenderRow>(
        `UPDATE renders SET owner = $1, lease_until = $2, status = $3, episode_id = $4, scene_id = $5, claim_epoch = claim_epoch + 1, updated_at = $6
         WHERE key = $7 RETURNING ${RENDER_COLUMNS}`,
        [this.owner, now + this.leaseMs, status, req.episodeId, req.sceneId, now, req.key],
      );
      return this.claimed(claimed);
    });
  }

  /** A row just claimed, its epoch remembered as this claim's token. */
  private claimed(row: RenderRow): ClaimResult {
    this.epochs.set(row.key, row.claim_epoch);
    return { kind: 'claimed', row };
  }

  async renew(): Promise<void> {
    await this.resync();
    await this.sql.rows('UPDATE renders SET lease_until = $1 WHERE owner = $2', [this.now() + this.leaseMs, this.owner]);
    // The run's heartbeat (`duologue status` tells live workers from lapsed ones by it).
    await this.sql.rows('UPDATE runs SET heartbeat_at = $1 WHERE owner = $2 AND finished_at IS NULL', [this.now(), this.owner]);
    await this.sql.rows('UPDATE run_workers SET heartbeat_at = $1 WHERE owner = $2 AND finished_at IS NULL', [this.now(), this.owner]);
  }

  async markSubmitting(key: string, sentJson?: string): Promise<boolean> {
    const now = this.now();
    const changed = await this.sql.rows(
      `UPDATE renders SET status = 'submitting', attempts = attempts + 1, submit_sent = $1, lease_until = $2, updated_at = $3
       WHERE key = $4 AND owner = $5 AND claim_epoch = $6 AND status <> 'complete' RETURNING key`,
      [sentJson ?? null, now + this.leaseMs, now, key, this.owner, this.epoch(key)],
    );
    return changed.length === 1;
  }

  async closeSubmit(key: string, sentJson: string, closedJson: string): Promise<boolean> {
    const changed = await this.sql.rows("UPDATE renders SET submit_sent = $1, updated_at = $2 WHERE key = $3 AND submit_sent = $4 AND status <> 'complete' RETURNING key", [
      closedJson,
      this.now(),
      key,
      sentJson,
    ]);
    return changed.length === 1;
  }

  async markPending(key: string): Promise<void> {
    await this.update(key, "status = 'pending'");
  }

  async markInFlight(key: string, predictionId: string): Promise<void> {
    const now = this.now();
    // `prev` locks the row and keeps its owner before the update: whether this write took a free row.
    const [row] = await this.sql.rows<{ claim_epoch: number; took: boolean }>(
      `WITH prev AS (SELECT key, owner FROM renders WHERE key = $4 FOR UPDATE)
       UPDATE renders r SET status = 'in-flight', prediction_id = $1, submitted_at = $2, error = NULL, output_misses = 0,
         prediction_ids = ${appendPredictionId('$1')},
         claim_epoch = CASE WHEN r.owner IS NULL THEN r.claim_epoch + 1 ELSE r.claim_epoch END,
         owner = CASE WHEN r.owner IS NULL THEN $3 ELSE r.owner END, updated_at = $2
       FROM prev WHERE r.key = prev.key AND r.status <> 'complete' RETURNING r.claim_epoch, prev.owner IS NULL AS took`,
      [predictionId, now, this.owner, key],
    );
    // A free row became ours: a new claim, with its own token.
    if (row?.took) this.epochs.set(key, row.claim_epoch);
  }

  async markComplete(key: string, clip: ClipRecord, predictionId?: string): Promise<void> {
    const now = this.now();
    await this.sql.rows(
      `UPDATE renders SET status = 'complete', clip_path = $1, clip_sha256 = $2, clip_bytes = $3, video_seconds = $4, billed_seconds = $5, cost_usd = $6,
         error = NULL, completed_at = $7, owner = NULL, lease_until = NULL, paid_attempts = paid_attempts + $8, updated_at = $7
       WHERE key = $9 AND status <> 'complete' AND ((owner = $10 AND claim_epoch = $12) OR owner IS NULL OR prediction_id = $11)`,
      [clip.path, clip.sha256, clip.bytes, clip.videoSeconds, clip.billedSeconds, clip.costUsd, now, predictionId ? 1 : 0, key, this.owner, predictionId ?? null, this.epoch(key)],
    );
    this.epochs.delete(key);
  }

  async markFailed(key: string, error: string, options: FailOptions = {}): Promise<void> {
    await this.update(
      key,
      `status = $3, error = $4, owner = NULL, lease_until = NULL, paid_attempts = paid_attempts + $5,
       video_seconds = CASE WHEN $6::boolean THEN $7::double precision ELSE video_seconds END, refused = $8${options.forgetPrediction ? ', prediction_id = NULL' : ''}`,
      options.status ?? 'failed',
      error,
      options.paid ? 1 : 0,
      Boolean(options.paid),
      options.paid?.deliveredSeconds ?? null,
      options.refused ? 1 : 0,
    );
    this.epochs.delete(key);
  }

  async missedOutput(key: string): Promise<number> {
    const [row] = await this.update(key, 'output_misses = output_misses + 1');
    return row?.output_misses ?? (await this.get(key))?.output_misses ?? 0;
  }

  async release(key: string): Promise<void> {
    await this.update(key, 'owner = NULL, lease_until = NULL');
    this.epochs.delete(key);
  }

  /** Releases this store's claims only (another store of the same process keeps its own). */
  async releaseAll(): Promise<void> {
    // By (owner, epoch): a store with the same owner name (a restarted worker) keeps its claims.
    const held = [...this.epochs];
    this.epochs.clear();
    if (held.length === 0) return;
    await this.sql.rows(
      `UPDATE renders r SET owner = NULL, lease_until = NULL FROM unnest($2::text[], $3::bigint[]) AS h (key, epoch)
       WHERE r.key = h.key AND r.owner = $1 AND r.claim_epoch = h.epoch`,
      [this.owner, held.map(([k]) => k), held.map(([, e]) => e)],
    );
  }

  async predictionIds(key: string): Promise<string[]> {
    const [row] = await this.sql.rows<{ prediction_ids: string | null; prediction_id: string | null }>('SELECT prediction_ids, prediction_id FROM renders WHERE key = $1', [key]);
    const ids = row?.prediction_ids ? (JSON.parse(row.prediction_ids) as string[]) : [];
    return row?.prediction_id && !ids.includes(row.prediction_id) ? [...ids, row.prediction_id] : ids;
  }

  async relocate(key: string, clipPath: string): Promise<void> {
    await this.sql.rows("UPDATE renders SET clip_path = $1 WHERE key = $2 AND status = 'complete'", [clipPath, key]);
  }

  async forget(key: string, why: string): Promise<void> {
    // The clip was good when it came; losing it later is no reason to hold the key.
    await this.sql.rows("UPDATE renders SET status = 'failed', error = $1, clip_path = NULL, paid_attempts = 0, updated_at = $2 WHERE key = $3 AND status = 'complete'", [
      why,
      this.now(),
      key,
    ]);
  }

  async lastSceneKeys(scenes: readonly { episodeId: string; sceneId: string }[]): Promise<Map<string, { key: string; inputs: CacheKeyInput }>> {
    const rows = await this.sql.rows<{ episode_id: string; scene_id: string; key: string; inputs: string }>(
      `SELECT s.episode_id, s.scene_id, s.key, s.inputs FROM scene_keys s
       JOIN unnest($1::text[], $2::text[]) AS q (episode_id, scene_id) ON q.episode_id = s.episode_id AND q.scene_id = s.scene_id`,
      [scenes.map((s) => s.episodeId), scenes.map((s) => s.sceneId)],
    );
    const found = new Map(rows.map((r) => [`${r.episode_id}/${r.scene_id}`, r]));
    // In the order asked, as the SQLite backend gives them.
    const out = new Map<string, { key: string; inputs: CacheKeyInput }>();
    for (const s of scenes) {
      const row = found.get(`${s.episodeId}/${s.sceneId}`);
      if (row) out.set(`${s.episodeId}/${s.sceneId}`, { key: row.key, inputs: JSON.parse(row.inputs) as CacheKeyInput });
    }
    return out;
  }

  async recordSceneKey(episodeId: string, sceneId: string, key: string, inputs: CacheKeyInput): Promise<void> {
    await this.sql.rows(
      `INSERT INTO scene_keys (episode_id, scene_id, key, inputs, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (episode_id, scene_id) DO UPDATE SET key = excluded.key, inputs = excluded.inputs, updated_at = excluded.updated_at`,
      [episodeId, sceneId, key, JSON.stringify(inputs), this.now()],
    );
  }

  /**
   * A write of the claim's holder: only while this run still holds the row,
   * and never over a finished render (one statement: see the top of this
   * file). `set` uses $3 on; resolves to the changed row's output_misses.
   */
  private update(key: string, set: string, ...values: unknown[]): Promise<{ output_misses: number }[]> {
    const at = `$${values.length + 3}`;
    const epoch = `$${values.length + 4}`;
    return this.sql.rows(
      `UPDATE renders SET ${set}, updated_at = ${at} WHERE key = $1 AND owner = $2 AND claim_epoch = ${epoch} AND status <> 'complete' RETURNING output_misses`,
      [key, this.owner, ...values, this.now(), this.epoch(key)],
    );
  }
}
