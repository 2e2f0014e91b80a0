/**
 * `npm run bench [-- [--md] [--quick] name...]`: runs benchmarks (all, or
 * the ones named) and prints one JSON line per result; `--md` prints each
 * as a BENCHMARKS.md section instead (the command, the date, the machine's
 * load before and after, then its table), ready to paste. `--quick` runs
 * each at a small size to check it works: its numbers are not figures.
 * BENCH_REPEATS=n repeats the repeated benches n times (default 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchHashing, hashingMarkdown } from './hashing.ts';
import { benchLocalRender } from './local-render.ts';
import { benchMakespan, makespanMarkdown } from './makespan.ts';
import { fieldsTable, machineLoad, provenance, type BenchResult } from './markdown.ts';
import { benchNightlyCost, nightlyCostMarkdown } from './nightly-cost.ts';
import { quick } from './options.ts';
import { benchOverhead, overheadMarkdown } from './overhead.ts';
import { benchPlanWarm, planMarkdown } from './plan-warm.ts';
import { benchStitch } from './stitch.ts';
import { benchBronze, benchSilver } from './tiers.ts';

interface Bench {
  run: () => Promise<BenchResult>;
  /** Its BENCHMARKS.md table; a field/value table when absent. */
  markdown?: (r: BenchResult) => string;
}

const args = process.argv.slice(2);
const md = args.includes('--md');
// The BENCH_* settings the user gave, so the printed command reproduces the figures.
const settings = Object.entries(process.env).filter(([k]) => /^BENCH_(?!QUICK$)/.test(k)).map(([k, v]) => `${k}=${v} `).join('');
if (args.includes('--quick')) {
  process.env.BENCH_QUICK = '1';
  // The tier benches (tiers.ts) take their sizes from these.
  process.env.BENCH_SCENES ??= '200';
  process.env.BENCH_MINUTE_MS ??= '1500';
}

const benches: Record<string, Bench> = {
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
};

const wanted = args.filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((n) => !(n in benches));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}

// Every temp folder the benches (and the processes they start) make goes under one root, removed at the end.
const root = mkdtempSync(path.join(tmpdir(), 'duologue-bench-'));
process.env.TMPDIR = root;
try {
  for (const [name, bench] of Object.entries(benches)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const before = machineLoad();
    const result = { ...(await bench.run()), ...(quick() ? { quick: true } : {}) };
    if (!md) {
      console.log(JSON.stringify({ bench: name, ...result }));
      continue;
    }
    const command = `${settings}npm run bench -- --md ${quick() ? '--quick ' : ''}${name}`;
    console.log(`### \`${name}\`\n\n${provenance(command, before, machineLoad(), quick())}\n\n${(bench.markdown ?? fieldsTable)(result)}\n`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
