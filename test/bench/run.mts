/**
 * `npm run bench [-- [--md] [--quick] name...]`: runs benchmarks (all, or
 * the ones named) and prints one JSON line per result; `--md` prints each
 * as a BENCHMARKS.md section instead (the command, the date, the machine's
 * load before and after, then its table), ready to paste. `--quick` runs
 * each at a small size to check it works: its numbers are not figures.
 * BENCH_REPEATS=n repeats the repeated benches n times (default 3).
 * Several benches run one after another, each in its own process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fieldsTable, machineLoad, provenance } from './markdown.ts';
import { quick } from './options.ts';
import { boundHeapGrowth } from '../../pipeline/run/heap.ts';

// The CLI's memory policy (bin/duologue.js sets it too): the benches run render's code in this process.
boundHeapGrowth();

const args = process.argv.slice(2);
const md = args.includes('--md');
if (args.includes('--quick') && process.env.BENCH_QUICK !== '1') {
  process.env.BENCH_QUICK = '1';
  // The tier benches (tiers.ts) take their sizes from these; remembered as ours, not the user's.
  const ours = Object.entries({ BENCH_SCENES: '200', BENCH_MINUTE_MS: '1500' }).filter(([k]) => process.env[k] === undefined);
  for (const [k, v] of ours) process.env[k] = v;
  process.env.BENCH_QUICK_SET = ours.map(([k]) => k).join(',');
}
// The BENCH_* settings the user gave, so the printed command reproduces the figures.
const ownSettings = new Set(['BENCH_QUICK', 'BENCH_QUICK_SET', ...(process.env.BENCH_QUICK_SET ?? '').split(',')]);
const settings = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_') && !ownSettings.has(k)).map(([k, v]) => `${k}=${v} `).join('');

// Loaded after the settings above: some benches read theirs when their module loads.
const { benches } = await import('./benches.ts');

const wanted = args.filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((n) => !(n in benches));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}

const selected = Object.keys(benches).filter((name) => wanted.length === 0 || wanted.includes(name));
if (selected.length > 1) {
  // Each bench in a process of its own: a peak RSS (a process's lifetime maximum) is then that
  // bench's alone, and no bench inherits another's heap, JIT state or open handles.
  const flags = args.filter((a) => a.startsWith('-'));
  for (const name of selected) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...flags, name], { stdio: 'inherit' });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
} else {
  await runOne(selected[0]);
}

async function runOne(name: string): Promise<void> {
  // Every temp folder the bench (and the processes it starts) makes goes under one root, removed at the end.
  const root = mkdtempSync(path.join(tmpdir(), 'duologue-bench-'));
  process.env.TMPDIR = root;
  try {
    const bench = benches[name];
    const before = machineLoad();
    const result = { ...(await bench.run()), ...(quick() ? { quick: true } : {}) };
    if (!md) {
      console.log(JSON.stringify({ bench: name, ...result }));
      return;
    }
    const command = `${settings}npm run bench -- --md ${quick() ? '--quick ' : ''}${name}`;
    console.log(`### \`${name}\`\n\n${provenance(command, before, machineLoad(), quick())}\n\n${(bench.markdown ?? fieldsTable)(result)}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
