import { describe, expect, it } from 'vitest';
import { DuologueError } from '../../pipeline/errors.ts';
import type { Plan } from '../../pipeline/plan/index.ts';
import { capJsonOf, checkJoin, planFingerprint, sharedPoolName } from '../../pipeline/run/named-run.ts';

const budgets = (pools: [string, number][]) => ({ budgets: pools.map(([id, limitUsd]) => ({ id, limitUsd, reservedUsd: 0 })) }) as Pick<Plan, 'budgets'>;
const episodes = (keys: string[][]) => ({ episodes: keys.map((k, i) => ({ id: `ep${i}`, scenes: k.map((key) => ({ key })) })) }) as unknown as Pick<Plan, 'episodes'>;

describe('named runs: what workers must agree on', () => {
  it('the cap JSON names --budget and the manifests’ budgets by file name, not path or balance', () => {
    const a = capJsonOf(5, { budgets: [...budgets([['/home/a/show/s2.yaml', 3], ['/home/a/show/s1.yaml', 2], ['run', 5]]).budgets, { id: 'balance', kind: 'balance', limitUsd: 40, reservedUsd: 0 }] });
    const b = capJsonOf(5, budgets([['/ci/work/show/s1.yaml', 2], ['/ci/work/show/s2.yaml', 3], ['run', 5]]));
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual({ budgetUsd: 5, pools: [['s1.yaml', 2], ['s2.yaml', 3]] });
    expect(sharedPoolName('run')).toBe('run');
  });

  it('the plan fingerprint is the same for the same keys in any order, and differs for other work', () => {
    expect(planFingerprint(episodes([['k1', 'k2'], ['k3']]))).toBe(planFingerprint(episodes([['k3'], ['k2', 'k1']])));
    expect(planFingerprint(episodes([['k1', 'k2']]))).not.toBe(planFingerprint(episodes([['k1', 'k2'], ['k3']])));
  });

  it('a joiner with another cap or other work is E_USAGE saying what differs; the creator and an equal joiner pass', () => {
    const mine = { capJson: capJsonOf(2, budgets([])), planFingerprint: 'aaa' };
    const run = (o: Partial<{ capJson: string; planFingerprint: string }>, created = false) => ({ id: 1, created, ...mine, ...o });
    expect(() => checkJoin('night', run({ capJson: capJsonOf(1, budgets([])) }, true), mine)).not.toThrow();
    expect(() => checkJoin('night', run({}), mine)).not.toThrow();
    const err = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        expect((e as DuologueError).code).toBe('E_USAGE');
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(() => checkJoin('night', run({ capJson: capJsonOf(undefined, budgets([])) }), mine))).toContain("--run night: this worker's cap differs from the run it joins (--budget $2 here, none in the run)");
    expect(err(() => checkJoin('night', run({ capJson: capJsonOf(2, budgets([['/x/s.yaml', 1]])) }), mine))).toContain('manifest budgets none here, s.yaml $1 in the run');
    expect(err(() => checkJoin('night', run({ planFingerprint: 'bbb' }), mine))).toContain('plan fingerprint aaa here, bbb in the run');
  });
});
