/**
 * {@link EpisodeStitches} on a PostgreSQL server (same rules as
 * sqlite/stitches.ts). A claim inserts the row (ON CONFLICT DO NOTHING: of
 * two first claims one inserts) or reads it FOR UPDATE, so a second claimant
 * waits and then sees the first one's claim; every later write is one UPDATE
 * whose WHERE carries (owner, epoch), a compare-and-set.
 */
import type { EpisodeStitches, StitchClaim, StitchRequest, StitchRow } from '../interfaces.ts';
import { decideStitchClaim } from '../stitch-claim.ts';
import type { Sql } from './db.ts';

const COLUMNS =
  'key, episode_id, target, status, run_id, owner, lease_until, claim_epoch, written_by, written_at, output_bytes, output_sha256, created_at, updated_at';

export class PgStitches implements EpisodeStitches {
  constructor(
    private sql: Sql,
    private owner: string,
    private now: () => number,
    private leaseMs: number,
  ) {}

  async get(key: string): Promise<StitchRow | undefined> {
    return (await this.sql.rows<StitchRow>(`SELECT ${COLUMNS} FROM episode_stitches WHERE key = $1`, [key]))[0];
  }

  claim(req: StitchRequest): Promise<StitchClaim> {
    return this.sql.atomic(async (tx): Promise<StitchClaim> => {
      const now = this.now();
      const [inserted] = await tx.rows<StitchRow>(
        `INSERT INTO episode_stitches (key, episode_id, target, status, run_id, owner, lease_until, claim_epoch, created_at, updated_at)
         VALUES ($1, $2, $3, 'open', $4, $5, $6, 1, $7, $7)
         ON CONFLICT (key) DO NOTHING RETURNING ${COLUMNS}`,
        [req.key, req.episodeId, req.target, req.runId ?? null, this.owner, now + this.leaseMs, now],
      );
      if (inserted) return { kind: 'won', epoch: inserted.claim_epoch, row: inserted };
      const [row] = await tx.rows<StitchRow>(`SELECT ${COLUMNS} FROM episode_stitches WHERE key = $1 FOR UPDATE`, [req.key]);
      if (!row) throw new Error(`internal: episode stitch ${req.key} vanished while being claimed`);
      const decision = decideStitchClaim(row, now);
      if (decision !== 'take') return { kind: decision, row };
      const [taken] = await tx.rows<StitchRow>(
        `UPDATE episode_stitches SET owner = $1, lease_until = $2, run_id = coalesce($3, run_id), claim_epoch = claim_epoch + 1, updated_at = $4
         WHERE key = $5 RETURNING ${COLUMNS}`,
        [this.owner, now + this.leaseMs, req.runId ?? null, now, req.key],
      );
      return { kind: 'won', epoch: taken!.claim_epoch, row: taken! };
    });
  }

  async renew(key: string, epoch: number): Promise<boolean> {
    const now = this.now();
    const r = await this.sql.rows(
      "UPDATE episode_stitches SET lease_until = $1, updated_at = $2 WHERE key = $3 AND owner = $4 AND claim_epoch = $5 AND status = 'open' RETURNING key",
      [now + this.leaseMs, now, key, this.owner, epoch],
    );
    return r.length === 1;
  }

  async markWritten(key: string, epoch: number, output: { bytes: number; sha256: string }): Promise<boolean> {
    const now = this.now();
    const r = await this.sql.rows(
      `UPDATE episode_stitches SET status = 'written', written_by = owner, written_at = $1, output_bytes = $2, output_sha256 = $3, owner = NULL, lease_until = NULL, updated_at = $1
       WHERE key = $4 AND owner = $5 AND claim_epoch = $6 AND status = 'open' RETURNING key`,
      [now, output.bytes, output.sha256, key, this.owner, epoch],
    );
    return r.length === 1;
  }

  async release(key: string, epoch: number): Promise<void> {
    await this.sql.rows(
      "UPDATE episode_stitches SET owner = NULL, lease_until = NULL, updated_at = $1 WHERE key = $2 AND owner = $3 AND claim_epoch = $4 AND status = 'open'",
      [this.now(), key, this.owner, epoch],
    );
  }

  async reopen(key: string, epoch: number): Promise<boolean> {
    const r = await this.sql.rows(
      "UPDATE episode_stitches SET status = 'open', owner = NULL, lease_until = NULL, updated_at = $1 WHERE key = $2 AND claim_epoch = $3 AND status = 'written' RETURNING key",
      [this.now(), key, epoch],
    );
    return r.length === 1;
  }
}
