/** {@link RunLedger} on a PostgreSQL server: the same books as sqlite/runs.ts (the reference for what each method means). */
import type { RecordedCharge, RunInfo, RunLedger, RunResult, SceneOutcome } from '../interfaces.ts';
import type { Sql } from './db.ts';

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
      const [before] = await tx.rows<{ cost_usd: number }>('SELECT cost_usd FROM run_scenes WHERE run_id = $1 AND episode_id = $2 AND scene_id = $3', [runId, s.episodeId, s.sceneId]);
      await tx.rows(
        `INSERT INTO run_scenes (run_id, episode_id, scene_id, key, outcome, cost_usd, error) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (run_id, episode_id, scene_id) DO UPDATE SET outcome = excluded.outcome, cost_usd = excluded.cost_usd, error = excluded.error`,
        [runId, s.episodeId, s.sceneId, s.key, s.outcome, s.costUsd ?? 0, s.error ?? null],
      );
      const delta = (s.costUsd ?? 0) - (before?.cost_usd ?? 0);
      if (delta !== 0) await tx.rows('UPDATE runs SET spent_usd = round((spent_usd + $1::double precision)::numeric, 4)::double precision WHERE id = $2', [delta, runId]);
    });
  }

  async planned(runId: number, info: { budgetUsd?: number; plannedUsd: number }): Promise<void> {
    await this.sql.rows('UPDATE runs SET budget_usd = $1, planned_usd = $2 WHERE id = $3', [info.budgetUsd ?? null, info.plannedUsd, runId]);
  }

  async finish(runId: number, result: RunResult, note?: string): Promise<void> {
    await this.sql.rows('UPDATE runs SET finished_at = $1, result = $2, note = $3 WHERE id = $4', [this.now(), result, note ?? null, runId]);
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
}

type RunShape = { id: number; started_at: number; finished_at: number | null; provider: string };
