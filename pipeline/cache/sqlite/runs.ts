import type Database from 'better-sqlite3';
import { roundUsd } from '../../cost/estimate.ts';
import type { HoldRequest, NamedRun, NamedRunStart, RecordedCharge, RunInfo, RunLedger, RunResult, SceneOutcome } from '../interfaces.ts';
import { statementCache, type Db } from './db.ts';
import type { Sync } from './guard.ts';

/** Outcomes a worker of a named run may record for a scene another worker of the run rendered. */
export const LATER_SIGHTS: ReadonlySet<string> = new Set(['cached', 'skipped', 'interrupted']);

/**
 * True when a worker collects a prediction another worker of the same named run submitted (a
 * takeover after that one died): it is charged nothing itself, so the charge the submitter
 * recorded stands (or the run's spend would drop by what was paid), and the submitter's hold on
 * the key is spent (it would stay held for good: its worker is gone).
 */
export function collectsAnothersCharge(before: { outcome: string; cost_usd: number } | undefined, s: { outcome: string; costUsd?: number }): boolean {
  return before?.outcome === 'in-flight' && before.cost_usd > 0 && s.outcome === 'rendered' && !s.costUsd;
}

/** A named run's drawn seeds as stored: canonical JSON (sorted by `episode/scene`), none as NULL. */
export function seedsJsonOf(seeds: Readonly<Record<string, number>> | undefined): string | null {
  const entries = Object.entries(seeds ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? null : JSON.stringify(Object.fromEntries(entries));
}

export function seedsOf(json: string | null): Record<string, number> {
  return json === null ? {} : (JSON.parse(json) as Record<string, number>);
}

/** {@link RunLedger} on the runs and run_scenes tables. */
export class SqliteLedger implements Sync<RunLedger> {
  /** Statements compiled once per text. */
  private sql: (text: string) => Database.Statement;

  constructor(
    private db: Db,
    private now: () => number = Date.now,
    /** Who runs the runs this ledger starts, and their lease: `duologue status` lists them as workers. */
    private owner: string | null = null,
    private leaseMs: number | null = null,
  ) {
    this.sql = statementCache(db);
  }

  start(info: { provider: string; args: string[]; budgetUsd?: number; plannedUsd: number }): number {
    const r = this
      .sql('INSERT INTO runs (started_at, pid, provider, args, budget_usd, planned_usd, owner, heartbeat_at, lease_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(this.now(), process.pid, info.provider, JSON.stringify(info.args), info.budgetUsd ?? null, info.plannedUsd, this.owner, this.now(), this.leaseMs);
    return Number(r.lastInsertRowid);
  }

  scene(runId: number, s: { episodeId: string; sceneId: string; key: string; outcome: SceneOutcome; costUsd?: number; error?: string }): void {
    // Read and write as one: a scene may be written twice (charged at submit, settled at the end),
    // and the run's spend moves by the difference. IMMEDIATE, so no other process writes in between.
    const write = () => {
      const before = this.sql('SELECT outcome, cost_usd FROM run_scenes WHERE run_id = ? AND episode_id = ? AND scene_id = ?').get(runId, s.episodeId, s.sceneId) as { outcome: string; cost_usd: number } | undefined;
      // A named run's other worker that waited on this key sees it cached (or stops): the render stays on the books.
      if (before?.outcome === 'rendered' && LATER_SIGHTS.has(s.outcome)) return;
      const takenOver = collectsAnothersCharge(before, s);
      const cost = takenOver ? before!.cost_usd : (s.costUsd ?? 0);
      this
        .sql(
          `INSERT INTO run_scenes (run_id, episode_id, scene_id, key, outcome, cost_usd, error, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(run_id, episode_id, scene_id) DO UPDATE SET outcome = excluded.outcome, cost_usd = excluded.cost_usd, error = excluded.error, owner = excluded.owner`,
        )
        .run(runId, s.episodeId, s.sceneId, s.key, s.outcome, cost, s.error ?? null, this.owner);
      const delta = cost - (before?.cost_usd ?? 0);
      if (delta !== 0) this.sql('UPDATE runs SET spent_usd = round(spent_usd + ?, 4) WHERE id = ?').run(delta, runId);
      if (takenOver) this.sql("UPDATE run_holds SET state = 'spent' WHERE run_id = ? AND cache_key = ? AND state = 'held'").run(runId, s.key);
    };
    if (this.db.inTransaction) write();
    else this.db.transaction(write).immediate();
  }

  /** What the run plans to spend, once planned (the run is recorded before it plans). */
  planned(runId: number, info: { budgetUsd?: number; plannedUsd: number }): void {
    this.sql('UPDATE runs SET budget_usd = ?, planned_usd = ? WHERE id = ?').run(info.budgetUsd ?? null, info.plannedUsd, runId);
  }

  finish(runId: number, result: RunResult, note?: string): void {
    this.sql('UPDATE runs SET finished_at = ?, result = ?, note = ? WHERE id = ?').run(this.now(), result, note ?? null, runId);
    // A named run's worker ends with it (the others' rows stay as they are).
    this.sql('UPDATE run_workers SET finished_at = ? WHERE run_id = ? AND owner = ? AND finished_at IS NULL').run(this.now(), runId, this.owner);
  }

  /** A run's times and provider; undefined when there is no such run. With no id: the last run of `provider`. */
  run(id: number | undefined, provider: string): RunInfo | undefined {
    const row = (
      id === undefined
        ? this.sql('SELECT id, started_at, finished_at, provider FROM runs WHERE provider = ? ORDER BY id DESC LIMIT 1').get(provider)
        : this.sql('SELECT id, started_at, finished_at, provider FROM runs WHERE id = ?').get(id)
    ) as { id: number; started_at: number; finished_at: number | null; provider: string } | undefined;
    return row && { id: row.id, startedAt: row.started_at, finishedAt: row.finished_at ?? undefined, provider: row.provider };
  }

  /**
   * What a run recorded for the scenes it paid for (or may have): its cost,
   * and the prediction it submitted when the cache knows it (a prediction
   * resumed from an earlier run is that run's charge, so it is left out).
   */
  charges(run: RunInfo): RecordedCharge[] {
    const rows = this
      .sql(
        `SELECT rs.episode_id, rs.scene_id, rs.key, rs.outcome, rs.cost_usd, rs.prediction_id AS own_prediction, r.prediction_id, r.submitted_at
           FROM run_scenes rs LEFT JOIN renders r ON r.key = rs.key
          WHERE rs.run_id = ? AND rs.outcome NOT IN ('cached', 'skipped')`,
      )
      .all(run.id) as { episode_id: string; scene_id: string; key: string; outcome: string; cost_usd: number; own_prediction: string | null; prediction_id: string | null; submitted_at: number | null }[];
    const end = run.finishedAt ?? this.now();
    return rows
      .map((r) => {
        // The run's own record first; older ledgers only have the key's current prediction, by time.
        const ours = r.own_prediction ?? (r.prediction_id !== null && r.submitted_at !== null && r.submitted_at >= run.startedAt && r.submitted_at <= end ? r.prediction_id : null);
        return { episodeId: r.episode_id, sceneId: r.scene_id, key: r.key, outcome: r.outcome, costUsd: r.cost_usd, predictionId: ours ?? undefined };
      })
      .filter((c) => c.predictionId !== undefined || c.costUsd !== 0);
  }

  /** The prediction this run's submit created for a scene (kept on the run's own row, whatever the key does later). */
  submitted(runId: number, s: { episodeId: string; sceneId: string }, predictionId: string): void {
    this.sql('UPDATE run_scenes SET prediction_id = ? WHERE run_id = ? AND episode_id = ? AND scene_id = ?').run(predictionId, runId, s.episodeId, s.sceneId);
  }

  /** True when some render of the cache has, or had, this prediction id (any run's). */
  knowsPrediction(id: string): boolean {
    return (
      this.sql(
        `SELECT 1 FROM renders WHERE prediction_id = ?
         UNION SELECT 1 FROM renders, json_each(coalesce(renders.prediction_ids, '[]')) WHERE json_each.value = ?
         UNION SELECT 1 FROM run_scenes WHERE prediction_id = ?`,
      ).get(id, id, id) !== undefined
    );
  }

  joinRun(info: NamedRunStart): NamedRun {
    // IMMEDIATE: two workers starting at once both find no row otherwise, and the second insert fails on the unique name.
    return this.immediate(() => {
      const found = this.sql('SELECT id, cap_json, plan_fingerprint, seeds_json FROM runs WHERE name = ?').get(info.name) as
        | { id: number; cap_json: string; plan_fingerprint: string; seeds_json: string | null }
        | undefined;
      if (found) {
        return { id: found.id, created: false, capJson: found.cap_json, planFingerprint: found.plan_fingerprint, drawnSeeds: seedsOf(found.seeds_json) };
      }
      const r = this
        .sql('INSERT INTO runs (started_at, pid, provider, args, budget_usd, planned_usd, name, cap_json, plan_fingerprint, seeds_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(this.now(), process.pid, info.provider, JSON.stringify(info.args), info.budgetUsd ?? null, info.plannedUsd, info.name, info.capJson, info.planFingerprint, seedsJsonOf(info.drawnSeeds));
      return { id: Number(r.lastInsertRowid), created: true, capJson: info.capJson, planFingerprint: info.planFingerprint, drawnSeeds: { ...info.drawnSeeds } };
    });
  }

  joinWorker(runId: number): void {
    // Once per worker and run, whatever the number of calls.
    this.immediate(() => {
      if (this.sql('SELECT 1 FROM run_workers WHERE run_id = ? AND owner = ?').get(runId, this.owner ?? '')) return;
      this
        .sql('INSERT INTO run_workers (run_id, owner, pid, started_at, heartbeat_at, lease_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(runId, this.owner ?? '', process.pid, this.now(), this.now(), this.leaseMs);
    });
  }

  reserve(runId: number, hold: HoldRequest): number | undefined {
    // Read the sums and write the hold in one IMMEDIATE transaction: SQLite's write lock is taken at
    // BEGIN, so no other process can hold money between the check and the insert.
    return this.immediate(() => {
      if (hold.limitUsd !== undefined) {
        const { used } = this.sql('SELECT coalesce(sum(usd), 0) AS used FROM run_holds WHERE run_id = ? AND pool = ?').get(runId, hold.pool) as { used: number };
        if (roundUsd(used + hold.usd) > hold.limitUsd) return undefined;
      }
      if (hold.accountLimitUsd !== undefined) {
        const { used } = this.sql('SELECT coalesce(sum(usd), 0) AS used FROM run_holds WHERE run_id = ?').get(runId) as { used: number };
        if (roundUsd(used + hold.usd) > hold.accountLimitUsd) return undefined;
      }
      const r = this
        .sql("INSERT INTO run_holds (run_id, pool, cache_key, usd, state, owner, created_at) VALUES (?, ?, ?, ?, 'held', ?, ?)")
        .run(runId, hold.pool, hold.key, hold.usd, hold.owner, this.now());
      return Number(r.lastInsertRowid);
    });
  }

  settleHold(runId: number, holdId: number, chargedUsd: number): void {
    this.immediate(() => {
      const moved = this.sql("UPDATE run_holds SET state = 'spent', usd = ? WHERE id = ? AND run_id = ?").run(chargedUsd, holdId, runId);
      // A hold given back as stale while its worker was paused: the charge still counts.
      if (moved.changes === 0 && chargedUsd > 0) {
        this.sql("INSERT INTO run_holds (run_id, pool, cache_key, usd, state, owner, created_at) VALUES (?, '', '', ?, 'spent', '', ?)").run(runId, chargedUsd, this.now());
      }
    });
  }

  releaseHold(holdId: number, owner?: string): void {
    this.sql("DELETE FROM run_holds WHERE id = ? AND state = 'held' AND (? IS NULL OR owner = ?)").run(holdId, owner ?? null, owner ?? null);
  }

  adoptHold(runId: number, key: string, owner: string): { id: number; usd: number } | undefined {
    return this.immediate(() => {
      const found = this.sql("SELECT id, usd FROM run_holds WHERE run_id = ? AND cache_key = ? AND state = 'held' AND owner <> ? ORDER BY id DESC LIMIT 1").get(runId, key, owner) as
        | { id: number; usd: number }
        | undefined;
      if (found) this.sql('UPDATE run_holds SET owner = ? WHERE id = ?').run(owner, found.id);
      return found;
    });
  }

  releaseStaleHolds(runId: number): number {
    // Only a pending render proves no paid request was sent for it (markSubmitting comes first). A worker
    // whose lease lapsed may only be paused: its claim is taken from it first, in this same transaction,
    // so its markSubmitting (a compare-and-set on owning the row) fails and it can never submit on a
    // hold given back. A hold whose worker no longer owns its pending key can go.
    return this.immediate(() => {
      this.sql(
        `UPDATE renders SET owner = NULL, lease_until = NULL, updated_at = ?
          WHERE status = 'pending' AND owner IS NOT NULL AND (lease_until IS NULL OR lease_until < ?)
            AND key IN (SELECT cache_key FROM run_holds WHERE run_id = ? AND state = 'held' AND owner = renders.owner)`,
      ).run(this.now(), this.now(), runId);
      return this.sql(
        `DELETE FROM run_holds WHERE run_id = ? AND state = 'held' AND EXISTS (
           SELECT 1 FROM renders r WHERE r.key = run_holds.cache_key AND r.status = 'pending' AND (r.owner IS NULL OR r.owner <> run_holds.owner))`,
      ).run(runId).changes;
    });
  }

  holdTotals(runId: number, pool?: string, exceptHeldKeys: readonly string[] = []): { spentUsd: number; reservedUsd: number } {
    const except = "NOT (state = 'held' AND cache_key IN (SELECT value FROM json_each(?)))";
    const rows = (
      pool === undefined
        ? this.sql(`SELECT state, coalesce(sum(usd), 0) AS usd FROM run_holds WHERE run_id = ? AND ${except} GROUP BY state`).all(runId, JSON.stringify(exceptHeldKeys))
        : this.sql(`SELECT state, coalesce(sum(usd), 0) AS usd FROM run_holds WHERE run_id = ? AND pool = ? AND ${except} GROUP BY state`).all(runId, pool, JSON.stringify(exceptHeldKeys))
    ) as { state: string; usd: number }[];
    const of = (state: string) => roundUsd(rows.find((r) => r.state === state)?.usd ?? 0);
    return { spentUsd: of('spent'), reservedUsd: of('held') };
  }

  /** `fn` in an IMMEDIATE transaction of its own, or in the one already open (the group commit's, which began IMMEDIATE). */
  private immediate<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }
}
