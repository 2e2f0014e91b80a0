/**
 * `npm run bench [-- name...]`: runs benchmarks and prints one JSON line per
 * result. Numbers go into BENCHMARKS.md with this command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchLocalRender } from './local-render.ts';
import { benchMakespan } from './makespan.ts';
import { benchOverhead } from './overhead.ts';
import { benchHashing } from './hashing.ts';
import { benchNightlyCost } from './nightly-cost.ts';
import { benchPlanWarm } from './plan-warm.ts';
import { benchStitch } from './stitch.ts';
import { benchBronze, benchSilver } from './tiers.ts';

const benches: Record<string, () => Promise<Record<string, string | number>>> = {
  plan: () => benchPlanWarm(20),
  plan10k: () => benchPlanWarm(200),
  hashing: benchHashing,
  cost: benchNightlyCost,
  local: benchLocalRender,
  stitch: benchStitch,
  makespan: benchMakespan,
  overhead: benchOverhead,
  silver: benchSilver,
  bronze: benchBronze,
};

// Every temp folder the benches (and the processes they start) make goes under one root, removed at the end.
const root = mkdtempSync(path.join(tmpdir(), 'duologue-bench-'));
process.env.TMPDIR = root;
try {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const [name, run] of Object.entries(benches)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const result = await run();
    console.log(JSON.stringify({ bench: name, ...result }));
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
