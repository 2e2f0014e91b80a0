/**
 * planManifests is the one wiring from manifest files to a plan: render and
 * every command go through it, so what it decides (which episodes, the run's
 * cap, where episodes go, what the cache already holds) is decided once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { planManifests } from '../../pipeline/run/plan-manifests.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const open: Store[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

function twoManifests(budgets: [number | undefined, number | undefined]) {
  const { dir } = tinyProject();
  const files = budgets.map((budget, i) => {
    const file = path.join(dir, `m${i}.yaml`);
    const cap = budget === undefined ? '' : `budget: ${budget}\n`;
    writeFileSync(file, `version: 1\n${cap}defaults: { image: two-people.png }\nepisodes:\n  - id: e${i}\n    scenes:\n      - { id: s, left: tone-1s.wav, seed: ${i + 1} }\n`);
    return file;
  });
  return { dir, files };
}

async function planned(files: string[], extra: { episodes?: string[]; budgetUsd?: number; outDir?: string } = {}) {
  const store = await openStore({ dir: ':memory:' });
  open.push(store);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-pm-cache-'));
  return planManifests(files, {
    store, cacheDir, ffmpeg, provider: PROVIDERS.wavespeed, episodes: extra.episodes, budgetUsd: extra.budgetUsd,
    outputs: { outDir: extra.outDir ?? path.join(cacheDir, 'out') },
  });
}

describe('planManifests', () => {
  it("the run's cap: --budget, else the caps of the manifests whose episodes run, added up; none when one has no cap", async () => {
    const { files } = twoManifests([1.5, 2.25]);
    expect((await planned(files)).planWith().capUsd).toBe(3.75);
    expect((await planned(files, { episodes: ['e1'] })).planWith().capUsd).toBe(2.25); // only the manifests whose episodes run
    expect((await planned(files, { budgetUsd: 0.5 })).planWith().capUsd).toBe(0.5);
    const open = twoManifests([1.5, undefined]);
    expect((await planned(open.files)).planWith().capUsd).toBeUndefined();
    expect((await planned(open.files, { episodes: ['e0'] })).planWith().capUsd).toBe(1.5);
  });

  it('keeps only the episodes asked for, and names an unknown one with the known ones', async () => {
    const { files } = twoManifests([undefined, undefined]);
    const only = await planned(files, { episodes: ['e1'] });
    expect(only.planWith().episodes.map((e) => e.id)).toEqual(['e1']);
    await expect(planned(files, { episodes: ['e1', 'nope'] })).rejects.toMatchObject({ code: 'E_USAGE', message: '--episode nope: no such episode (known: e0, e1)' });
  });

  it("an episode goes to its output: or <out>/<id>.mp4; plans at other prices and under a balance on demand", async () => {
    const { files } = twoManifests([undefined, undefined]);
    const outDir = mkdtempSync(path.join(tmpdir(), 'dl-pm-out-'));
    const m = await planned(files, { outDir });
    expect(m.outputOf('e0')).toBe(path.join(outDir, 'e0.mp4'));
    expect(m.outputOf('e0', '/elsewhere/x.mp4')).toBe('/elsewhere/x.mp4');
    const table = m.planWith();
    const doubled = m.planWith({ ...PROVIDERS.wavespeed.prices, pricePerBlock: { '480p': PROVIDERS.wavespeed.prices.pricePerBlock['480p'] * 2, '720p': PROVIDERS.wavespeed.prices.pricePerBlock['720p'] * 2 } });
    expect(doubled.totals.costUsd).toBeCloseTo(table.totals.costUsd * 2, 6);
    const broke = m.planWith(undefined, 0);
    expect(broke.episodes.every((e) => !e.admitted)).toBe(true);
  });
});
