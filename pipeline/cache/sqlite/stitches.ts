import type Database from 'better-sqlite3';
import type { EpisodeStitches, StitchClaim, StitchRequest, StitchRow } from '../interfaces.ts';
import { decideStitchClaim } from '../stitch-claim.ts';
import { statementCache, type Db } from './db.ts';
import type { Sync } from './guard.ts';

/** {@link EpisodeStitches} on the episode_stitches table (see there for the rules). */
export class SqliteStitches implements Sync<EpisodeStitches> {
  private sql: (text: string) => Database.Statement;
  private tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(
    db: Db,
    private owner: string,
    private now: () => number,
    private leaseMs: number,
  ) {
    this.sql = statementCache(db);
    this.tx = db.transaction((fn: () => unknown) => fn());
  }

  get(key: string): StitchRow | undefined {
    return this.sql('SELECT * FROM episode_stitches WHERE key = ?').get(key) as StitchRow | undefined;
  }

  claim(req: StitchRequest): StitchClaim {
    // IMMEDIATE: the write lock before the read, so two processes cannot both see the row free (see renders.ts).
    return this.tx.immediate((): StitchClaim => {
      const now = this.now();
      const row = this.get(req.key);
      if (!row) {
        this
          .sql(
            `INSERT INTO episode_stitches (key, episode_id, target, status, run_id, owner, lease_until, claim_epoch, created_at, updated_at)
             VALUES (?, ?, ?, 'open', ?, ?, ?, 1, ?, ?)`,
          )
          .run(req.key, req.episodeId, req.target, req.runId ?? null, this.owner, now + this.leaseMs, now, now);
        return this.won(req.key);
      }
      const decision = decideStitchClaim(row, now);
      if (decision !== 'take') return { kind: decision, row };
      this
        .sql('UPDATE episode_stitches SET owner = ?, lease_until = ?, run_id = coalesce(?, run_id), claim_epoch = claim_epoch + 1, updated_at = ? WHERE key = ?')
        .run(this.owner, now + this.leaseMs, req.runId ?? null, now, req.key);
      return this.won(req.key);
    }) as StitchClaim;
  }

  private won(key: string): StitchClaim {
    const row = this.get(key)!;
    return { kind: 'won', epoch: row.claim_epoch, row };
  }

  renew(key: string, epoch: number): boolean {
    const now = this.now();
    const r = this
      .sql("UPDATE episode_stitches SET lease_until = ?, updated_at = ? WHERE key = ? AND owner = ? AND claim_epoch = ? AND status = 'open'")
      .run(now + this.leaseMs, now, key, this.owner, epoch);
    return r.changes === 1;
  }

  markWritten(key: string, epoch: number, output: { bytes: number; sha256: string }): boolean {
    const now = this.now();
    const r = this
      .sql(
        `UPDATE episode_stitches SET status = 'written', written_by = owner, written_at = ?, output_bytes = ?, output_sha256 = ?, owner = NULL, lease_until = NULL, updated_at = ?
         WHERE key = ? AND owner = ? AND claim_epoch = ? AND status = 'open'`,
      )
      .run(now, output.bytes, output.sha256, now, key, this.owner, epoch);
    return r.changes === 1;
  }

  release(key: string, epoch: number): void {
    this
      .sql("UPDATE episode_stitches SET owner = NULL, lease_until = NULL, updated_at = ? WHERE key = ? AND owner = ? AND claim_epoch = ? AND status = 'open'")
      .run(this.now(), key, this.owner, epoch);
  }

  reopen(key: string, epoch: number): boolean {
    const r = this
      .sql("UPDATE episode_stitches SET status = 'open', owner = NULL, lease_until = NULL, updated_at = ? WHERE key = ? AND claim_epoch = ? AND status = 'written'")
      .run(this.now(), key, epoch);
    return r.changes === 1;
  }
}
