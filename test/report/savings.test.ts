/**
 * What the report says the cache saved, on a priced provider: the yardstick
 * is what the fake WaveSpeed itself billed (its own charge rule, not
 * duologue's estimate), so a report that invents or drops savings fails.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../pipeline/report/run-report.ts';
import { billedFor, fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();
const readReport = (cacheDir: string) => JSON.parse(readFileSync(path.join(cacheDir, 'out', 'report.json'), 'utf8')) as RunReport;

describe('run report: money the cache saved (fake WaveSpeed)', () => {
  it('a second run that hits the cache saved exactly what the first run paid; after one change, what the others had cost', async () => {
    // Worked by hand from the cost rules (min 5 s, whole seconds up, $0.03/s at 480p, $0.06/s at 720p):
    // short 2.5 s → 5 s = $0.15; long 5.3 s at 720p → 6 s = $0.36; other 1 s → 5 s = $0.15.
    const { fake, manifest, cacheDir } = await setup([sceneYaml('short', 3, 1), sceneYaml('long', 5.3, 3, '720p'), '      - { id: other, left: tone-1s.wav, seed: 4 }']);

    const first = await startRun(manifest, cacheDir, fake, { report: true }).done;
    const paid = fake.chargedUsd;
    expect(paid).toBe(0.66);
    expect(billedFor(fake, first.submitted)).toBe(paid);
    expect(readReport(cacheDir).totals).toMatchObject({ rendered: 3, cached: 0, cost_usd: paid, from_scratch_usd: paid, saved_usd: 0 });

    const second = await startRun(manifest, cacheDir, fake, { report: true }).done;
    expect(second.submitted).toEqual([]);
    expect(fake.chargedUsd).toBe(paid); // nothing new was billed
    expect(readReport(cacheDir).totals).toMatchObject({ rendered: 0, cached: 3, cost_usd: 0, from_scratch_usd: paid, saved_usd: paid });

    // Only `other` uses tone-1s.wav: it is paid again, the two others are what the cache saved.
    appendFileSync(path.join(path.dirname(manifest), 'tone-1s.wav'), Buffer.alloc(2));
    const third = await startRun(manifest, cacheDir, fake, { report: true }).done;
    expect(third.submitted).toHaveLength(1);
    const repaid = billedFor(fake, third.submitted);
    expect(repaid).toBe(0.15);
    const firstOther = first.submitted.filter((id) => fake.submissions.find((s) => s.id === id)?.body.seed === 4);
    const savedByOthers = billedFor(fake, first.submitted.filter((id) => !firstOther.includes(id)));
    expect(savedByOthers).toBe(0.51);
    expect(readReport(cacheDir).totals).toMatchObject({ rendered: 1, cached: 2, cost_usd: repaid, from_scratch_usd: paid, saved_usd: savedByOthers });
  });
});
