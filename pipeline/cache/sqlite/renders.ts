import type Database from 'better-sqlite3';
import type { ClaimRequest, ClaimResult, ClipRecord, FailOptions, RenderRow, RenderStatus, RenderStore } from '../interfaces.ts';
import type { CacheKeyInput } from '../../plan/key.ts';
import { ownerAlive } from '../owner.ts';
import { statementCache, type Db } from './db.ts';
import type { Sync } from './guard.ts';

/** {@link RenderStore} on the renders and scene_keys tables (see there for the rules). */
export class SqliteRenders implements Sync<RenderStore> {
  /** Statements compiled once per text. */
  private sql: (text: string) => Database.Statement;
  /** One transaction wrapper for every batch (better-sqlite3 builds five functions per wrapper). */
  private tx: Database.Transaction<(fn: () => unknown) => unknown>;
  readonly clock: { now: () => number };
  /**
   * The epoch (fencing token) of each claim this store holds. Every later
   * write of a claim is conditional on (owner, epoch): a worker paused past
   * its lease whose key was taken over (a higher epoch) writes nothing.
   */
  private epochs = new Map<string, number>();

  constructor(
    private db: Db,
    readonly owner: string,
    private now: () => number = Date.now,
    /** How long a claim lives without a heartbeat (schedule renews it every third of this). */
    readonly leaseMs = 30_000,
  ) {
    this.clock = { now };
    this.sql = statementCache(db);
    this.tx = db.transaction((fn: () => unknown) => fn());
  }

  get(key: string): RenderRow | undefined {
    return this.sql('SELECT * FROM renders WHERE key = ?').get(key) as RenderRow | undefined;
  }

  getMany(keys: readonly string[]): Map<string, RenderRow> {
    // One compiled lookup per key: as fast as an IN list here, with no limit on how many.
    const rows = new Map<string, RenderRow>();
    for (const key of keys) {
      const row = this.get(key);
      if (row) rows.set(key, row);
    }
    return rows;
  }

  claim(req: ClaimRequest): ClaimResult {
    return this.batch((): ClaimResult => {
      const now = this.now();
      const row = this.get(req.key);
      if (!row) {
        this
          .sql(
            `INSERT INTO renders (key, provider, model, status, episode_id, scene_id, seed, inputs, estimate_usd, owner, lease_until, claim_epoch, created_at, updated_at)
             VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
          )
          .run(req.key, req.inputs.provider, req.inputs.model, req.episodeId, req.sceneId, req.inputs.seed, JSON.stringify(req.inputs), req.estimateUsd, this.owner, now + this.leaseMs, now, now);
        return this.claimed(req.key);
      }
      if (row.status === 'complete') return { kind: 'complete', row };
      // A key this store already holds is busy too: one job per claim (a second would write under the same token).
      if (row.owner === this.owner && this.epochs.get(req.key) === row.claim_epoch) return { kind: 'busy', row };
      if (row.owner && row.owner !== this.owner && ownerAlive(row.owner, row.lease_until ?? 0, now)) return { kind: 'busy', row };
      // Free, expired, or a dead owner's: take it over where it stands. A failed
      // render is tried afresh (its last error kept, for the held rule); an
      // interrupted submit stays "submitting" so the caller can see it may have been billed.
      const status: RenderStatus = row.status === 'failed' ? 'pending' : row.status;
      this
        .sql('UPDATE renders SET owner = ?, lease_until = ?, status = ?, episode_id = ?, scene_id = ?, claim_epoch = claim_epoch + 1, updated_at = ? WHERE key = ?')
        .run(this.owner, now + this.leaseMs, status, req.episodeId, req.sceneId, now, req.key);
      return this.claimed(req.key);
    });
  }

  /** The row just claimed, its epoch remembered as this claim's token. */
  private claimed(key: string): ClaimResult {
    const row = this.get(key)!;
    this.epochs.set(key, row.claim_epoch);
    return { kind: 'claimed', row };
  }

  /** This store's token for the key; -1 (matches no row) when it holds no claim on it. */
  private epoch(key: string): number {
    return this.epochs.get(key) ?? -1;
  }

  /**
   * Runs several writes as one transaction (one commit instead of several).
   * IMMEDIATE: the write lock is taken (or waited for) up front. A deferred
   * transaction that reads first and writes later fails at once with "database
   * is locked" when another process wrote in between.
   */
  private batch<T>(fn: () => T): T {
    return this.tx.immediate(fn) as T;
  }

  /** Renews every lease this owner holds (the heartbeat). */
  renew(): void {
    this.sql('UPDATE renders SET lease_until = ? WHERE owner = ?').run(this.now() + this.leaseMs, this.owner);
    // The run's heartbeat (`duologue status` tells live workers from lapsed ones by it).
    this.sql('UPDATE runs SET heartbeat_at = ? WHERE owner = ? AND finished_at IS NULL').run(this.now(), this.owner);
    this.sql('UPDATE run_workers SET heartbeat_at = ? WHERE owner = ? AND finished_at IS NULL').run(this.now(), this.owner);
  }

  /**
   * The last step before the paid request: a compare-and-set on still owning
   * the row. False means another run took the key over (this one was paused
   * or slow past its lease): the caller must not submit.
   */
  markSubmitting(key: string, sentJson?: string): boolean {
    const r = this
      .sql(
        "UPDATE renders SET status = 'submitting', attempts = attempts + 1, submit_sent = ?, lease_until = ?, updated_at = ? WHERE key = ? AND owner = ? AND claim_epoch = ? AND status <> 'complete'",
      )
      .run(sentJson ?? null, this.now() + this.leaseMs, this.now(), key, this.owner, this.epoch(key));
    return r.changes === 1;
  }

  closeSubmit(key: string, sentJson: string, closedJson: string): boolean {
    const r = this.sql("UPDATE renders SET submit_sent = ?, updated_at = ? WHERE key = ? AND submit_sent = ? AND status <> 'complete'").run(closedJson, this.now(), key, sentJson);
    return r.changes === 1;
  }

  /** The submit's answer proved no task was created; it waits to try again (nothing can be billed). */
  markPending(key: string): void {
    this.update(key, "status = 'pending'");
  }

  /**
   * The provider created a task: its id is recorded whoever holds the row now
   * (losing it would mean paying again), and the row is ours again if free.
   * Output misses are counted per prediction: a new one starts from none.
   */
  markInFlight(key: string, predictionId: string): void {
    this.batch(() => {
      const free = this.get(key)?.owner === null;
      this
        .sql(
          `UPDATE renders SET status = 'in-flight', prediction_id = ?, submitted_at = ?, error = NULL, output_misses = 0,
             prediction_ids = json_insert(coalesce(prediction_ids, '[]'), '$[#]', ?),
             claim_epoch = CASE WHEN owner IS NULL THEN claim_epoch + 1 ELSE claim_epoch END,
             owner = CASE WHEN owner IS NULL THEN ? ELSE owner END, updated_at = ?
           WHERE key = ? AND status <> 'complete'`,
        )
        .run(predictionId, this.now(), predictionId, this.owner, this.now(), key);
      // A free row became ours: a new claim, with its own token.
      const row = this.get(key);
      if (free && row?.owner === this.owner && row.status === 'in-flight') this.epochs.set(key, row.claim_epoch);
    });
  }

  /** The clip is in the store and checked. Counts the paid prediction. */
  markComplete(key: string, clip: ClipRecord, predictionId?: string): void {
    this
      .sql(
        `UPDATE renders SET status = 'complete', clip_path = ?, clip_sha256 = ?, clip_bytes = ?, video_seconds = ?, billed_seconds = ?, cost_usd = ?,
           error = NULL, completed_at = ?, owner = NULL, lease_until = NULL, paid_attempts = paid_attempts + ?, updated_at = ?
         WHERE key = ? AND status <> 'complete' AND ((owner = ? AND claim_epoch = ?) OR owner IS NULL OR prediction_id = ?)`,
      )
      .run(clip.path, clip.sha256, clip.bytes, clip.videoSeconds, clip.billedSeconds, clip.costUsd, this.now(), predictionId ? 1 : 0, this.now(), key, this.owner, this.epoch(key), predictionId ?? null);
    this.epochs.delete(key);
  }

  /**
   * Gives the key up as failed. `paid`: a prediction completed and was billed
   * but its clip is unusable (counted towards holding the key; its delivered
   * length, when known, is kept so a retry reserves at least what it cost).
   */
  markFailed(key: string, error: string, options: FailOptions = {}): void {
    const paid = options.paid ? 1 : 0;
    this.update(
      key,
      `status = ?, error = ?, owner = NULL, lease_until = NULL, paid_attempts = paid_attempts + ?, video_seconds = CASE WHEN ? THEN ? ELSE video_seconds END, refused = ?${options.forgetPrediction ? ', prediction_id = NULL' : ''}`,
      options.status ?? 'failed',
      error,
      paid,
      paid,
      options.paid?.deliveredSeconds ?? null,
      options.refused ? 1 : 0,
    );
    this.epochs.delete(key);
  }

  /** The prediction's output could not be fetched this time: counted. Returns the count in a row. */
  missedOutput(key: string): number {
    this.update(key, 'output_misses = output_misses + 1');
    return (this.get(key)?.output_misses as number | undefined) ?? 0;
  }

  /** Gives the key back without changing its state (Ctrl-C, deadline): the next run resumes it. */
  release(key: string): void {
    this.update(key, 'owner = NULL, lease_until = NULL');
    this.epochs.delete(key);
  }

  /** Releases this store's claims only (another store of the same process keeps its own). */
  releaseAll(): void {
    // By (owner, epoch): a store with the same owner name (a restarted worker) keeps its claims.
    const release = this.sql('UPDATE renders SET owner = NULL, lease_until = NULL WHERE key = ? AND owner = ? AND claim_epoch = ?');
    this.batch(() => {
      for (const [key, epoch] of this.epochs) release.run(key, this.owner, epoch);
    });
    this.epochs.clear();
  }

  /** Every prediction id this key has had. */
  predictionIds(key: string): string[] {
    const row = this.sql('SELECT prediction_ids, prediction_id FROM renders WHERE key = ?').get(key) as { prediction_ids: string | null; prediction_id: string | null } | undefined;
    const ids = row?.prediction_ids ? (JSON.parse(row.prediction_ids) as string[]) : [];
    return row?.prediction_id && !ids.includes(row.prediction_id) ? [...ids, row.prediction_id] : ids;
  }

  /** A complete render's clip found at another path (the cache folder was moved). */
  relocate(key: string, clipPath: string): void {
    this.sql("UPDATE renders SET clip_path = ? WHERE key = ? AND status = 'complete'").run(clipPath, key);
  }

  /** A complete render whose clip went missing or bad becomes a plain miss. */
  forget(key: string, why: string): void {
    // The clip was good when it came; losing it later is no reason to hold the key.
    this.sql("UPDATE renders SET status = 'failed', error = ?, clip_path = NULL, paid_attempts = 0, updated_at = ? WHERE key = ? AND status = 'complete'").run(why, this.now(), key);
  }

  lastSceneKeys(scenes: readonly { episodeId: string; sceneId: string }[]): Map<string, { key: string; inputs: CacheKeyInput }> {
    const out = new Map<string, { key: string; inputs: CacheKeyInput }>();
    const select = this.sql('SELECT key, inputs FROM scene_keys WHERE episode_id = ? AND scene_id = ?');
    for (const s of scenes) {
      const row = select.get(s.episodeId, s.sceneId) as { key: string; inputs: string } | undefined;
      if (row) out.set(`${s.episodeId}/${s.sceneId}`, { key: row.key, inputs: JSON.parse(row.inputs) as CacheKeyInput });
    }
    return out;
  }

  recordSceneKey(episodeId: string, sceneId: string, key: string, inputs: CacheKeyInput): void {
    this.sql(
        `INSERT INTO scene_keys (episode_id, scene_id, key, inputs, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(episode_id, scene_id) DO UPDATE SET key = excluded.key, inputs = excluded.inputs, updated_at = excluded.updated_at`,
      ).run(episodeId, sceneId, key, JSON.stringify(inputs), this.now());
  }

  /**
   * A write of the claim's holder: only while this run still holds the row,
   * and never over a finished render. A run that lost its claim (paused past
   * its lease) must not undo what the run that took over did.
   */
  private update(key: string, set: string, ...values: unknown[]): void {
    this.sql(`UPDATE renders SET ${set}, updated_at = ? WHERE key = ? AND owner = ? AND claim_epoch = ? AND status <> 'complete'`).run(...values, this.now(), key, this.owner, this.epoch(key));
  }
}
