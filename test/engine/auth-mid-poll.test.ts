/**
 * The key is refused (401) while the run polls a prediction it submitted:
 * the run stops, the prediction is kept for the next run — and the run's
 * books keep its charge. The job's exit ('kept in flight') charges the hold,
 * but the 401 was rethrown after it and the scheduler then booked the scene
 * failed at $0: the ledger lost a billed prediction's cost (the summary still
 * showed it), and the run that collects the clip is charged nothing.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { billedFor, fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

/** Each run's spend as its ledger holds it. */
function ledger(cacheDir: string): { id: number; spent_usd: number }[] {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, spent_usd FROM runs ORDER BY id').all() as { id: number; spent_usd: number }[];
  } finally {
    db.close();
  }
}

describe('a 401 while polling', () => {
  it("keeps the submitted prediction's charge on the run's books; the next run collects it at no charge", async () => {
    // The list lags, so the wait asks for the task's own result: that request is refused.
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)], { listLagMs: 60_000 });
    fake.script('result', { kind: 'status', status: 401 });
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.authError).toMatchObject({ code: 'E_AUTH' });
    expect(first.submitted).toHaveLength(1);
    expect(first.summary.cost_usd).toBe(0.15);
    expect(ledger(cacheDir)).toEqual([{ id: first.result.runId, spent_usd: 0.15 }]);

    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.summary).toMatchObject({ rendered: 1, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(1);
    // What the runs booked is what the provider billed.
    const booked = ledger(cacheDir).reduce((sum, r) => sum + r.spent_usd, 0);
    expect(booked).toBe(billedFor(fake, first.submitted));
  });
});
