/**
 * A prediction still processing at its scene's deadline, through the whole
 * run: the scene is reported (E_DEADLINE, charged to the run that submitted
 * it), its id is kept, and the next run resumes it and pays nothing more.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

describe('the scene deadline through the scheduler', () => {
  it('still processing at the deadline: reported, id kept; the next run resumes it and pays nothing more', async () => {
    // 2.5 s of video at 200 ms per second: 0.5 s of processing at least, far past a 50 ms deadline.
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1), sceneYaml('b', 2.5, 2)], { msPerVideoSecond: 200 });
    const first = await startRun(manifest, cacheDir, fake, { policy: { ...FAST_POLICY, deadlineBaseMs: 50, deadlinePerVideoSecondMs: 0 } }).done;
    const ids = fake.submissions.map((s) => s.id);
    expect(ids).toHaveLength(2);
    for (const s of first.result.schedule.scenes) {
      expect(s).toMatchObject({ outcome: 'failed', code: 'E_DEADLINE', costUsd: 0.15, error: expect.stringMatching(/still (processing|created) at the deadline; its id is kept and the next run resumes it/) });
    }
    expect(first.summary).toMatchObject({ failed: 2, cost_usd: 0.3 });
    expect(first.result.episodes[0].status).toBe('incomplete');

    const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    expect(db.prepare('SELECT status, owner FROM renders ORDER BY prediction_id').all()).toEqual([
      { status: 'in-flight', owner: null },
      { status: 'in-flight', owner: null },
    ]);
    expect((db.prepare('SELECT prediction_id FROM renders').all() as { prediction_id: string }[]).map((r) => r.prediction_id).sort()).toEqual([...ids].sort());
    db.close();
    const status = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout);
    expect(status.in_flight).toHaveLength(2);
    expect(status.attention).toEqual([]);

    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.result.plan.totals).toMatchObject({ resume: 2, render: 0, costUsd: 0 });
    expect(second.seen.filter((e) => e.type === 'resumed').map((e) => (e as { predictionId: string }).predictionId).sort()).toEqual([...ids].sort());
    expect(second.submitted).toEqual([]);
    expect(second.summary).toMatchObject({ rendered: 2, failed: 0, cost_usd: 0 });
    expect(second.result.episodes[0].status).toBe('complete');
    expect(fake.submissions).toHaveLength(2);
    expect(fake.chargedUsd).toBe(0.3); // what the first run's books say it paid
  });
});
