import type Database from 'better-sqlite3';
import { statementCache, type Db } from './db.ts';

/** `in-flight`: submitted by this run and not settled yet (a run killed there keeps the charge on its books). */
export type SceneOutcome = 'rendered' | 'cached' | 'failed' | 'skipped' | 'interrupted' | 'in-flight';

/** The run ledger: what each run was asked, what it spent, what happened to each scene. */
export class RunLedger {
  /** Statements compiled once per text. */
  private sql: (text: string) => Database.Statement;

  constructor(
    private db: Db,
    private now: () => number = Date.now,
  ) {
    this.sql = statementCache(db);
  }

  start(info: { provider: string; args: string[]; budgetUsd?: number; plannedUsd: number }): number {
    const r = this
      .sql('INSERT INTO runs (started_at, pid, provider, args, budget_usd, planned_usd) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.now(), process.pid, info.provider, JSON.stringify(info.args), info.budgetUsd ?? null, info.plannedUsd);
    return Number(r.lastInsertRowid);
  }

  scene(runId: number, s: { episodeId: string; sceneId: string; key: string; outcome: SceneOutcome; costUsd?: number; error?: string }): void {
    // Read and write as one: a scene may be written twice (charged at submit, settled at the end),
    // and the run's spend moves by the difference. IMMEDIATE, so no other process writes in between.
    const write = () => {
      const before = this.sql('SELECT cost_usd FROM run_scenes WHERE run_id = ? AND episode_id = ? AND scene_id = ?').get(runId, s.episodeId, s.sceneId) as { cost_usd: number } | undefined;
      this
        .sql(
          `INSERT INTO run_scenes (run_id, episode_id, scene_id, key, outcome, cost_usd, error) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(run_id, episode_id, scene_id) DO UPDATE SET outcome = excluded.outcome, cost_usd = excluded.cost_usd, error = excluded.error`,
        )
        .run(runId, s.episodeId, s.sceneId, s.key, s.outcome, s.costUsd ?? 0, s.error ?? null);
      const delta = (s.costUsd ?? 0) - (before?.cost_usd ?? 0);
      if (delta !== 0) this.sql('UPDATE runs SET spent_usd = round(spent_usd + ?, 4) WHERE id = ?').run(delta, runId);
    };
    if (this.db.inTransaction) write();
    else this.db.transaction(write).immediate();
  }

  finish(runId: number, result: 'complete' | 'incomplete' | 'interrupted' | 'failed', note?: string): void {
    this.sql('UPDATE runs SET finished_at = ?, result = ?, note = ? WHERE id = ?').run(this.now(), result, note ?? null, runId);
  }
}
