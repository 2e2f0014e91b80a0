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
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)], { msPerVideoSecond: 200 });
    const first = await startRun(manifest, cacheDir, fake, { policy: { ...FAST_POLICY, deadlineBaseMs: 50, deadlinePerVideoSecondMs: 0 } }).done;
    expect(fake.submissions).toHaveLength(1);
    const id = fake.submissions[0].id;
    expect(first.result.schedule.scenes[0]).toMatchObject({
      outcome: 'failed',
      code: 'E_DEADLINE',
      costUsd: 0.15, // the run that submitted it carries its charge
      error: expect.stringMatching(new RegExp(`prediction ${id} still (processing|created) at the deadline; its id is kept and the next run resumes it`)),
    });
    expect(first.summary).toMatchObject({ failed: 1, cost_usd: 0.15 });
    expect(first.result.episodes[0].status).toBe('incomplete');

    const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    expect(db.prepare('SELECT status, owner, prediction_id FROM renders').all()).toEqual([{ status: 'in-flight', owner: null, prediction_id: id }]);
    db.close();
    const status = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout);
    expect(status.in_flight).toMatchObject([{ prediction_id: id, state: 'waiting for the next run to resume it' }]);
    expect(status.attention).toEqual([]);

    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.result.plan.totals).toMatchObject({ resume: 1, render: 0, costUsd: 0 });
    expect(second.seen).toContainEqual(expect.objectContaining({ type: 'resumed', predictionId: id }));
    expect(second.submitted).toEqual([]);
    expect(second.summary).toMatchObject({ rendered: 1, failed: 0, cost_usd: 0 });
    expect(second.result.episodes[0].status).toBe('complete');
    expect(fake.submissions).toHaveLength(1);
    expect(fake.chargedUsd).toBe(0.15); // what the first run's books say it paid
  });
});
