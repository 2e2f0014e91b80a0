/** Every benchmark by the name `npm run bench -- NAME` takes, with its BENCHMARKS.md table. */
import { benchEnd2End, end2endMarkdown } from './end2end.ts';
import { benchHashing, hashingMarkdown } from './hashing.ts';
import { benchLocalRender } from './local-render.ts';
import { benchMakespan, makespanMarkdown } from './makespan.ts';
import type { BenchResult } from './markdown.ts';
import { benchNightlyCost, nightlyCostMarkdown } from './nightly-cost.ts';
import { quick } from './options.ts';
import { benchOverhead, overheadMarkdown } from './overhead.ts';
import { benchPlanWarm, planMarkdown } from './plan-warm.ts';
import { benchScaleout, scaleoutMarkdown } from './scaleout.ts';
import { benchStitch } from './stitch.ts';
import { benchBronze, benchSilver } from './tiers.ts';
import { benchSubmitWindow } from './submit-window.ts';

export interface Bench {
  run: () => Promise<BenchResult>;
  /** Its BENCHMARKS.md table; a field/value table when absent. */
  markdown?: (r: BenchResult) => string;
}

export const benches: Record<string, Bench> = {
  plan: { run: () => benchPlanWarm(quick() ? 2 : 20), markdown: planMarkdown },
  plan10k: { run: () => benchPlanWarm(quick() ? 4 : 200), markdown: planMarkdown },
  hashing: { run: benchHashing, markdown: hashingMarkdown },
  cost: { run: benchNightlyCost, markdown: nightlyCostMarkdown },
  local: { run: benchLocalRender },
  stitch: { run: benchStitch },
  makespan: { run: benchMakespan, markdown: makespanMarkdown },
  overhead: { run: benchOverhead, markdown: overheadMarkdown },
  silver: { run: benchSilver },
  bronze: { run: benchBronze },
  window: { run: benchSubmitWindow },
  scaleout: { run: benchScaleout, markdown: scaleoutMarkdown },
  end2end: { run: benchEnd2End, markdown: end2endMarkdown },
};
