/**
 * A prediction left in flight by a run that was stopped (Ctrl-C) or killed
 * (kill -9) is that run's charge. The next run, under --budget, resumes it at
 * no cost: the plan admits it free, the scheduler holds nothing for it, and
 * the books count its charge once — in the run that submitted it — so the
 * cap is left whole for the scenes this run does pay for.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import type { RunEvent } from '../../pipeline/events.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { renderChild, until } from '../helpers/engine.ts';
import { fakeProjects, manifestYaml, sceneYaml, startRun } from '../helpers/money.ts';
import { tinyProject } from '../helpers/tasks.ts';

const setup = fakeProjects();

/** Stops a run of `manifest` once its one scene's prediction id is recorded, leaving it in flight. */
const stoppers: Record<string, (manifest: string, cacheDir: string, fake: FakeWavespeed) => Promise<void>> = {
  'stopped (Ctrl-C)': async (manifest, cacheDir, fake) => {
    const stop = new AbortController();
    const run = startRun(manifest, cacheDir, fake, { signal: stop.signal });
    await until(() => run.seen.some((e) => e.type === 'submitted'), 'the submit');
    stop.abort();
    expect((await run.done).result.schedule.scenes[0]).toMatchObject({ outcome: 'interrupted', costUsd: 0.15 });
  },
  'killed (kill -9)': async (manifest, cacheDir, fake) => {
    const child = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl });
    await until(() => child.events.some((e) => e.type === 'submitted'), 'the submit');
    child.proc.kill('SIGKILL');
    await child.exit;
  },
};

describe('a resumed prediction under --budget', () => {
  it.each(Object.keys(stoppers))('left in flight by a run %s: the next run resumes it free and the cap still pays for a new scene', async (how) => {
    // Processing takes a while (1 s), so the stop lands while the prediction is still in flight.
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1), sceneYaml('b', 2.5, 2)], { msPerVideoSecond: 400 });
    const onlyA = tinyProject(manifestYaml({ ep1: [sceneYaml('a', 2.5, 1)] })).manifest; // the same key as the full show's "a"
    await stoppers[how](onlyA, cacheDir, fake);
    expect(fake.submissions).toHaveLength(1);
    const first = fake.submissions[0].id;

    // $0.15 is exactly b's worst case: it fits only if the resumed a holds nothing.
    const run = await startRun(manifest, cacheDir, fake, { budgetUsd: 0.15 }).done;
    const [a, b] = run.result.plan.episodes[0].scenes;
    expect(a).toMatchObject({ action: 'resume', costUsd: 0 });
    expect(b).toMatchObject({ action: 'render', costUsd: 0.15 });
    expect(run.result.plan.episodes[0].admitted).toBe(true);
    expect(run.seen).toContainEqual(expect.objectContaining({ type: 'resumed', scene: 'a', predictionId: first }));
    expect(run.summary).toMatchObject({ rendered: 2, failed: 0, skipped: 0, cost_usd: 0.15 });
    expect(run.submitted).toHaveLength(1); // b only
    for (const e of run.seen as RunEvent[]) if (e.type === 'spend') expect(Math.round((e.spentUsd + e.reservedUsd) * 10_000) / 10_000).toBeLessThanOrEqual(0.15);

    // Each charge on exactly one run's books: a on the run that submitted it, b on this one.
    const store = await openStore({ dir: cacheDir });
    try {
      const ledger = store.ledger;
      const runs = (await store.admin.recentRuns(10)).map((r) => r.run).reverse();
      expect(runs.map((r) => r.spent_usd)).toEqual([0.15, 0.15]);
      const charges = [];
      for (const r of runs) charges.push((await ledger.charges((await ledger.run(r.id, 'wavespeed'))!)).map((c) => ({ scene: c.sceneId, costUsd: c.costUsd, predictionId: c.predictionId })));
      expect(charges).toEqual([[{ scene: 'a', costUsd: 0.15, predictionId: first }], [{ scene: 'b', costUsd: 0.15, predictionId: run.submitted[0] }]]);
    } finally {
      await store.close();
    }
    expect(fake.chargedUsd).toBe(0.3); // what the provider billed is what the books say, in all
  });
});
