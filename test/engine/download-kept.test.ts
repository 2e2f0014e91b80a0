/**
 * A finished, paid prediction whose output cannot be fetched this time (the
 * output host glitches): its id is kept, so the next run fetches it again and
 * pays nothing. Misses are counted per prediction: only the same output
 * missing run after run goes to a person.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Fault } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

/** The one render row and each run's spend, as the next run would find them. */
function books(cacheDir: string) {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return {
      render: db.prepare('SELECT status, prediction_id, owner, output_misses FROM renders').get() as { status: string; prediction_id: string | null; owner: string | null; output_misses: number },
      spent: (db.prepare('SELECT spent_usd FROM runs ORDER BY id').all() as { spent_usd: number }[]).map((r) => r.spent_usd),
    };
  } finally {
    db.close();
  }
}

describe('an output that cannot be fetched this time', () => {
  // (5xx on every attempt: test/engine/budget.test.ts, "a run's books".)
  it('the connection reset on every attempt: the id is kept, status shows it waiting, the next run downloads it without paying', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
    fake.script('output', ...Array.from({ length: 5 }, () => ({ kind: 'reset' }) as Fault)); // every attempt of one download (FAST_POLICY: 5)
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', costUsd: 0.15, error: expect.stringMatching(/kept and the next run downloads it/) });
    const id = fake.submissions[0].id;
    expect(books(cacheDir).render).toMatchObject({ status: 'in-flight', prediction_id: id, owner: null });
    const status = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout);
    expect(status.in_flight).toMatchObject([{ prediction_id: id, state: 'waiting for the next run to resume it' }]);
    expect(status.attention).toEqual([]);

    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.seen).toContainEqual(expect.objectContaining({ type: 'resumed', predictionId: id }));
    expect(second.summary).toMatchObject({ rendered: 1, failed: 0, cost_usd: 0 });
    expect(second.submitted).toEqual([]);
    expect(fake.submissions).toHaveLength(1);
    expect(books(cacheDir)).toMatchObject({ render: { status: 'complete' }, spent: [0.15, 0] }); // paid once, by the run that submitted it
  });

  it('misses count per prediction: after --retry-ambiguous renders it again, one miss of the new output is fetched again, not held', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 2)]);
    fake.script('output', ...Array.from({ length: 3 }, () => ({ kind: 'status', status: 404 }) as Fault));
    for (let i = 0; i < 3; i++) await startRun(manifest, cacheDir, fake).done;
    expect(books(cacheDir).render).toMatchObject({ status: 'ambiguous', output_misses: 3 });

    fake.script('output', { kind: 'status', status: 404 });
    const retried = await startRun(manifest, cacheDir, fake, { retryAmbiguous: true }).done;
    expect(fake.submissions).toHaveLength(2);
    expect(retried.result.schedule.scenes[0].error).toMatch(/prediction pred-\d+ is kept and the next run fetches it again/);
    expect(books(cacheDir).render).toMatchObject({ status: 'in-flight', prediction_id: fake.submissions[1].id, output_misses: 1 });
    const next = await startRun(manifest, cacheDir, fake).done;
    expect(next.summary).toMatchObject({ rendered: 1, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(2);
  });

  it('misses count per prediction: a prediction attached by hand (`cache attach`) starts from none', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 3)]);
    fake.script('output', ...Array.from({ length: 3 }, () => ({ kind: 'status', status: 404 }) as Fault));
    for (let i = 0; i < 3; i++) await startRun(manifest, cacheDir, fake).done;
    const key = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout).attention[0].key as string;
    // The person found the render on the dashboard and attaches it.
    expect((await runCli(['cache', 'attach', key, fake.submissions[0].id, '--cache-dir', cacheDir])).code).toBe(0);
    fake.script('output', { kind: 'status', status: 404 });
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.result.schedule.scenes[0].error).toMatch(/is kept and the next run fetches it again/);
    expect((await startRun(manifest, cacheDir, fake).done).summary).toMatchObject({ rendered: 1, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(1);
  });
});
