import { describe, expect, it } from 'vitest';
import type { NamedRun, NamedRunStart } from '../../pipeline/cache/interfaces.ts';
import type { Plan } from '../../pipeline/plan/index.ts';
import type { ManifestPlan } from '../../pipeline/run/plan-manifests.ts';
import { drewOthers, joinWithSeeds } from '../../pipeline/run/run-seeds.ts';

/** A plan whose keys are its scenes' seeds, as the real key depends on them. */
const planned = (seeds: Record<string, number>) => ({
  manifests: { prepared: { drawnSeeds: new Map(Object.entries(seeds)) } } as unknown as ManifestPlan,
  plan: { budgets: [], totals: { costUsd: 0.3 }, episodes: [{ id: 'ep', scenes: Object.values(seeds).map((s) => ({ key: `key-${s}` })) }] } as unknown as Plan,
});

/** A ledger holding one run made by the first call, with the seeds that call drew. */
function ledger() {
  let run: NamedRun | undefined;
  return {
    joinRun: async (info: NamedRunStart): Promise<NamedRun> => {
      if (run) return { ...run, created: false };
      run = { id: 1, created: true, capJson: info.capJson, planFingerprint: info.planFingerprint, drawnSeeds: { ...info.drawnSeeds } };
      return run;
    },
  };
}

describe('a named run’s seeds', () => {
  it('a joiner that drew other seeds plans again with the run’s and joins; one that drew the same does not plan again', async () => {
    const books = ledger();
    const start = { name: 'night', provider: 'local', args: [] };
    const first = await joinWithSeeds({ ledger: books, start, ...planned({ 'ep/a': 5 }), replan: () => Promise.reject(new Error('the first worker plans once')) });
    expect(first.joined).toMatchObject({ created: true, drawnSeeds: { 'ep/a': 5 } });
    const asked: ReadonlyMap<string, number>[] = [];
    const second = await joinWithSeeds({ ledger: books, start, ...planned({ 'ep/a': 99 }), replan: async (seeds) => (asked.push(seeds), planned(Object.fromEntries(seeds))) });
    expect(asked).toEqual([new Map([['ep/a', 5]])]);
    expect(second.plan.episodes[0].scenes[0].key).toBe('key-5');
    await expect(joinWithSeeds({ ledger: books, start, ...planned({ 'ep/a': 5 }), replan: () => Promise.reject(new Error('same seeds: no second plan')) })).resolves.toMatchObject({ joined: { created: false } });
  });

  it('a scene the run has no seed for keeps this worker’s draw, and the join rules refuse the other work', async () => {
    expect(drewOthers(new Map([['ep/a', 1]]), { 'ep/a': 1 })).toBe(false);
    expect(drewOthers(new Map([['ep/a', 1]]), { 'ep/a': 2 })).toBe(true);
    expect(drewOthers(new Map([['ep/b', 3]]), { 'ep/a': 1 })).toBe(false);
    expect(drewOthers(new Map(), {})).toBe(false);
    const books = ledger();
    const start = { name: 'night', provider: 'local', args: [] };
    await joinWithSeeds({ ledger: books, start, ...planned({ 'ep/a': 5 }), replan: () => Promise.reject(new Error('unused')) });
    await expect(joinWithSeeds({ ledger: books, start, ...planned({ 'ep/a': 5, 'ep/b': 8 }), replan: () => Promise.reject(new Error('unused')) })).rejects.toThrow(/plan other scenes than the run it joins/);
  });
});
