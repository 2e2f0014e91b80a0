/** {@link RunLedger} on a PostgreSQL server: the same books as sqlite/runs.ts (the reference for what each method means). */
import { roundUsd } from '../../cost/estimate.ts';
import type { HoldRequest, NamedRun, NamedRunStart, RecordedCharge, RunInfo, RunLedger, RunResult, SceneOutcome } from '../interfaces.ts';
import type { Sql } from './db.ts';
import { LATER_SIGHTS, collectsAnothersCharge, seedsJsonOf, seedsOf } from '../sqlite/runs.ts';

export class PgLedger implements RunLedger {
  constructor(
    private sql: Sql,
    private now: () => number = Date.now,
    /** Who runs the runs this ledger starts, and their lease: `duologue status` lists them as workers. */
    private owner: string | null = null,
    private leaseMs: number | null = null,
  ) {}

  async start(info: { provider: string; args: string[]; budgetUsd?: number; plannedUsd: number }): Promise<number> {
    const [row] = await this.sql.rows<{ id: number }>(
      'INSERT INTO runs (started_at, pid, provider, args, budget_usd, planned_usd, owner, heartbeat_at, lease_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $1, $8) RETURNING id',
      [this.now(), process.pid, info.provider, JSON.stringify(info.args), info.budgetUsd ?? null, info.plannedUsd, this.owner, this.leaseMs],
    );
    return row.id;
  }

  scene(runId: number, s: { episodeId: string; sceneId: string; key: string; outcome: SceneOutcome; costUsd?: number; error?: string }): Promise<void> {
    // Read and write as one: the run's spend moves by the difference. The run's row is locked first,
    // so the scenes of one run written by several workers at once add up.
    return this.sql.atomic(async (tx) => {
      await tx.rows('SELECT id FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      const [before] = await tx.rows<{ outcome: string; cost_usd: number }>('SELECT outcome, cost_usd FROM run_scenes WHERE run_id = $1 AND episode_id = $2 AND scene_id = $3', [runId, s.episodeId, s.sceneId]);
      // A named run's other worker that waited on this key sees it cached (or stops): the render stays on the books.
      if (before?.outcome === 'rendered' && LATER_SIGHTS.has(s.outcome)) return;
      const takenOver = collectsAnothersCharge(before, s);
      const cost = takenOver ? before!.cost_usd : (s.costUsd ?? 0);
      await tx.rows(
        `INSERT INTO run_scenes (run_id, episode_id, scene_id, key, outcome, cost_usd, error, owner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (run_id, episode_id, scene_id) DO UPDATE SET outcome = excluded.outcome, cost_usd = excluded.cost_usd, error = excluded.error, owner = excluded.owner`,
        [runId, s.episodeId, s.sceneId, s.key, s.outcome, cost, s.error ?? null, this.owner],
      );
      const delta = cost - (before?.cost_usd ?? 0);
      if (delta !== 0) await tx.rows('UPDATE runs SET spent_usd = round((spent_usd + $1::double precision)::numeric, 4)::double precision WHERE id = $2', [delta, runId]);
      if (takenOver) await tx.rows("UPDATE run_holds SET state = 'spent' WHERE run_id = $1 AND cache_key = $2 AND state = 'held'", [runId, s.key]);
    });
  }

  async planned(runId: number, info: { budgetUsd?: number; plannedUsd: number }): Promise<void> {
    await this.sql.rows('UPDATE runs SET budget_usd = $1, planned_usd = $2 WHERE id = $3', [info.budgetUsd ?? null, info.plannedUsd, runId]);
  }

  async finish(runId: number, result: RunResult, note?: string): Promise<void> {
    await this.sql.rows('UPDATE runs SET finished_at = $1, result = $2, note = $3 WHERE id = $4', [this.now(), result, note ?? null, runId]);
    // A named run's worker ends with it (the others' rows stay as they are).
    await this.sql.rows('UPDATE run_workers SET finished_at = $1 WHERE run_id = $2 AND owner = $3 AND finished_at IS NULL', [this.now(), runId, this.owner]);
  }

  async run(id: number | undefined, provider: string): Promise<RunInfo | undefined> {
    const [row] = await (id === undefined
      ? this.sql.rows<RunShape>('SELECT id, started_at, finished_at, provider FROM runs WHERE provider = $1 ORDER BY id DESC LIMIT 1', [provider])
      : this.sql.rows<RunShape>('SELECT id, started_at, finished_at, provider FROM runs WHERE id = $1', [id]));
    return row && { id: row.id, startedAt: row.started_at, finishedAt: row.finished_at ?? undefined, provider: row.provider };
  }

  async charges(run: RunInfo): Promise<RecordedCharge[]> {
    const rows = await this.sql.rows<{ episode_id: string; scene_id: string; key: string; outcome: string; cost_usd: number; own_prediction: string | null; prediction_id: string | null; submitted_at: number | null }>(
      `SELECT rs.episode_id, rs.scene_id, rs.key, rs.outcome, rs.cost_usd, rs.prediction_id AS own_prediction, r.prediction_id, r.submitted_at
         FROM run_scenes rs LEFT JOIN renders r ON r.key = rs.key
        WHERE rs.run_id = $1 AND rs.outcome NOT IN ('cached', 'skipped')`,
      [run.id],
    );
    const end = run.finishedAt ?? this.now();
    return rows
      .map((r) => {
        // The run's own record first; else the key's current prediction, when submitted within the run's time.
        const ours = r.own_prediction ?? (r.prediction_id !== null && r.submitted_at !== null && r.submitted_at >= run.startedAt && r.submitted_at <= end ? r.prediction_id : null);
        return { episodeId: r.episode_id, sceneId: r.scene_id, key: r.key, outcome: r.outcome, costUsd: r.cost_usd, predictionId: ours ?? undefined };
      })
      .filter((c) => c.predictionId !== undefined || c.costUsd !== 0);
  }

  async submitted(runId: number, s: { episodeId: string; sceneId: string }, predictionId: string): Promise<void> {
    await this.sql.rows('UPDATE run_scenes SET prediction_id = $1 WHERE run_id = $2 AND episode_id = $3 AND scene_id = $4', [predictionId, runId, s.episodeId, s.sceneId]);
  }

  async knowsPrediction(id: string): Promise<boolean> {
    const rows = await this.sql.rows(
      `SELECT 1 FROM renders WHERE prediction_id = $1
       UNION SELECT 1 FROM renders, jsonb_array_elements_text(coalesce(renders.prediction_ids, '[]')::jsonb) AS e (id) WHERE e.id = $1
       UNION SELECT 1 FROM run_scenes WHERE prediction_id = $1
       LIMIT 1`,
      [id],
    );
    return rows.length > 0;
  }

  joinRun(info: NamedRunStart): Promise<NamedRun> {
    return this.sql.atomic(async (tx) => {
      // Insert or find in one statement: workers starting at once on several machines all get the one row.
      const [made] = await tx.rows<{ id: number }>(
        `INSERT INTO runs (started_at, pid, provider, args, budget_usd, planned_usd, name, cap_json, plan_fingerprint, seeds_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (name) WHERE name IS NOT NULL DO NOTHING RETURNING id`,
        [this.now(), process.pid, info.provider, JSON.stringify(info.args), info.budgetUsd ?? null, info.plannedUsd, info.name, info.capJson, info.planFingerprint, seedsJsonOf(info.drawnSeeds)],
      );
      if (made) return { id: made.id, created: true, capJson: info.capJson, planFingerprint: info.planFingerprint, drawnSeeds: { ...info.drawnSeeds } };
      const [found] = await tx.rows<{ id: number; cap_json: string; plan_fingerprint: string; seeds_json: string | null }>(
        'SELECT id, cap_json, plan_fingerprint, seeds_json FROM runs WHERE name = $1',
        [info.name],
      );
      return { id: found.id, created: false, capJson: found.cap_json, planFingerprint: found.plan_fingerprint, drawnSeeds: seedsOf(found.seeds_json) };
    });
  }

  async joinWorker(runId: number): Promise<void> {
    // Once per worker and run, whatever the number of calls (one statement: no second row on a retry).
    await this.sql.rows(
      `INSERT INTO run_workers (run_id, owner, pid, started_at, heartbeat_at, lease_ms)
       SELECT $1, $2, $3, $4, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM run_workers WHERE run_id = $1 AND owner = $2)`,
      [runId, this.owner ?? '', process.pid, this.now(), this.leaseMs],
    );
  }

  reserve(runId: number, hold: HoldRequest): Promise<number | undefined> {
    return this.sql.atomic(async (tx) => {
      // The run's row locked first: every reservation of the run, from any worker on any machine, checks
      // and inserts in turn (under READ COMMITTED two could otherwise both see room for one).
      await tx.rows('SELECT id FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      if (hold.limitUsd !== undefined) {
        const [{ used }] = await tx.rows<{ used: number }>('SELECT coalesce(sum(usd), 0) AS used FROM run_holds WHERE run_id = $1 AND pool = $2', [runId, hold.pool]);
        if (roundUsd(used + hold.usd) > hold.limitUsd) return undefined;
      }
      if (hold.accountLimitUsd !== undefined) {
        const [{ used }] = await tx.rows<{ used: number }>('SELECT coalesce(sum(usd), 0) AS used FROM run_holds WHERE run_id = $1', [runId]);
        if (roundUsd(used + hold.usd) > hold.accountLimitUsd) return undefined;
      }
      const [row] = await tx.rows<{ id: number }>(
        "INSERT INTO run_holds (run_id, pool, cache_key, usd, state, owner, created_at) VALUES ($1, $2, $3, $4, 'held', $5, $6) RETURNING id",
        [runId, hold.pool, hold.key, hold.usd, hold.owner, this.now()],
      );
      return row.id;
    });
  }

  settleHold(runId: number, holdId: number, chargedUsd: number): Promise<void> {
    return this.sql.atomic(async (tx) => {
      const moved = await tx.rows("UPDATE run_holds SET state = 'spent', usd = $1 WHERE id = $2 AND run_id = $3 RETURNING id", [chargedUsd, holdId, runId]);
      // A hold given back as stale while its worker was paused: the charge still counts.
      if (moved.length === 0 && chargedUsd > 0) {
        await tx.rows("INSERT INTO run_holds (run_id, pool, cache_key, usd, state, owner, created_at) VALUES ($1, '', '', $2, 'spent', '', $3)", [runId, chargedUsd, this.now()]);
      }
    });
  }

  async releaseHold(holdId: number, owner?: string): Promise<void> {
    await this.sql.rows("DELETE FROM run_holds WHERE id = $1 AND state = 'held' AND ($2::text IS NULL OR owner = $2)", [holdId, owner ?? null]);
  }

  async adoptHold(runId: number, key: string, owner: string): Promise<{ id: number; usd: number } | undefined> {
    const [row] = await this.sql.rows<{ id: number; usd: number }>(
      `UPDATE run_holds SET owner = $3 WHERE id = (
         SELECT id FROM run_holds WHERE run_id = $1 AND cache_key = $2 AND state = 'held' AND owner <> $3 ORDER BY id DESC LIMIT 1 FOR UPDATE)
       RETURNING id, usd`,
      [runId, key, owner],
    );
    return row && { id: Number(row.id), usd: Number(row.usd) };
  }

  releaseStaleHolds(runId: number): Promise<number> {
    // As SQLite's: a lapsed worker's pending claim is taken from it first (its markSubmitting, a
    // compare-and-set on owning the row, then fails: a paused worker never submits on a hold given
    // back; one that marked submitting first holds the row's lock, and the key is no longer pending).
    return this.sql.atomic(async (tx) => {
      await tx.rows(
        `UPDATE renders SET owner = NULL, lease_until = NULL, updated_at = $1
          WHERE status = 'pending' AND owner IS NOT NULL AND (lease_until IS NULL OR lease_until < $1)
            AND key IN (SELECT cache_key FROM run_holds WHERE run_id = $2 AND state = 'held' AND owner = renders.owner)`,
        [this.now(), runId],
      );
      const rows = await tx.rows(
        `DELETE FROM run_holds h WHERE h.run_id = $1 AND h.state = 'held' AND EXISTS (
           SELECT 1 FROM renders r WHERE r.key = h.cache_key AND r.status = 'pending' AND (r.owner IS NULL OR r.owner <> h.owner))
         RETURNING h.id`,
        [runId],
      );
      return rows.length;
    });
  }

  async holdTotals(runId: number, pool?: string, exceptHeldKeys: readonly string[] = []): Promise<{ spentUsd: number; reservedUsd: number }> {
    const except = "NOT (state = 'held' AND cache_key = ANY($2::text[]))";
    const rows = await (pool === undefined
      ? this.sql.rows<{ state: string; usd: number }>(`SELECT state, coalesce(sum(usd), 0) AS usd FROM run_holds WHERE run_id = $1 AND ${except} GROUP BY state`, [runId, [...exceptHeldKeys]])
      : this.sql.rows<{ state: string; usd: number }>(`SELECT state, coalesce(sum(usd), 0) AS usd FROM run_holds WHERE run_id = $1 AND ${except} AND pool = $3 GROUP BY state`, [runId, [...exceptHeldKeys], pool]));
    const of = (state: string) => roundUsd(rows.find((r) => r.state === state)?.usd ?? 0);
    return { spentUsd: of('spent'), reservedUsd: of('held') };
  }
}

type RunShape = { id: number; started_at: number; finished_at: number | null; provider: string };
