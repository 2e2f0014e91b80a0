/**
 * `render --run NAME`: three worker processes on one cache dir join one run
 * against the fake WaveSpeed, under a cap smaller than the work. The run's
 * money lives in the store's holds, so it adds up across the workers.
 */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEY, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const scene = (id: string, seed: number) => `      - { id: ${id}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${seed} }\n`;
// Three episodes of two $0.15 scenes: $0.90 of work.
const SHOW = `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n${[1, 2, 3].map((e) => `  - id: ep${e}\n    scenes:\n${scene('a', e * 10 + 1)}${scene('b', e * 10 + 2)}`).join('')}`;
const CAP = 0.65;

const { fakes, dirs, children } = useProcesses();

function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true', ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

async function setup() {
  const fake = await startFake();
  fakes.push(fake);
  const { dir, manifest } = tinyProject(SHOW);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-named-run-'));
  dirs.push(dir, cacheDir);
  const args = (budget: number, out: string) => ['render', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir, '--out', path.join(cacheDir, out), '--no-report', '--budget', String(budget)];
  const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '2' };
  const db = () => new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  return { fake, args, env, db };
}

describe('render --run NAME', () => {
  it('three workers on one cache join one run: one ledger row, spend within the one cap, each key submitted once, the rest held for budget', async () => {
    const { fake, args, env, db } = await setup();
    const workers = await Promise.all(['w1', 'w2', 'w3'].map((w, i) => runBin([...args(CAP, w), ...(i === 2 ? [] : ['--run', 'night'])], i === 2 ? { ...env, DUOLOGUE_RUN: 'night' } : env)));
    for (const w of workers) expect(w.code, w.stderr).toBe(1); // incomplete: ep3 does not fit the cap

    // Each key submitted at most once across the three processes.
    const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(seeds.sort()).toEqual([11, 12, 21, 22]);
    expect(fake.chargedUsd).toBeLessThanOrEqual(CAP);

    const d = db();
    try {
      const runs = d.prepare('SELECT id, name, spent_usd, budget_usd FROM runs').all() as { id: number; name: string | null; spent_usd: number; budget_usd: number }[];
      expect(runs).toEqual([{ id: runs[0].id, name: 'night', spent_usd: fake.chargedUsd, budget_usd: CAP }]);
      // The run's money is the store's: spent across all workers, nothing left held, within the cap.
      const holds = d.prepare("SELECT state, round(sum(usd), 4) AS usd, count(*) AS n FROM run_holds WHERE run_id = ? GROUP BY state").all(runs[0].id);
      expect(holds).toEqual([{ state: 'spent', usd: fake.chargedUsd, n: 4 }]);
      // One row per scene of the run; ep3's scenes are held for budget.
      const scenes = d.prepare('SELECT episode_id || \'/\' || scene_id AS scene, outcome, error FROM run_scenes WHERE run_id = ? ORDER BY scene').all(runs[0].id) as { scene: string; outcome: string; error: string | null }[];
      expect(scenes.map((s) => [s.scene, s.outcome])).toEqual([
        ['ep1/a', 'rendered'],
        ['ep1/b', 'rendered'],
        ['ep2/a', 'rendered'],
        ['ep2/b', 'rendered'],
        ['ep3/a', 'skipped'],
        ['ep3/b', 'skipped'],
      ]);
      expect(scenes.filter((s) => s.outcome === 'skipped').map((s) => s.error)).toEqual(['over budget', 'over budget']);
    } finally {
      d.close();
    }
    for (const w of workers) expect(w.stderr).toMatch(/ep3.*over budget|over budget/);
  }, 90_000);

  it('a worker that joins after the first finished sees its spend (the cached scenes free its own plan, the run’s cap still holds ep3 back); one with another --budget is refused before it spends', async () => {
    const { fake, args, env, db } = await setup();
    const first = await runBin([...args(CAP, 'w1'), '--run', 'night'], env);
    expect(first.code, first.stderr).toBe(1);
    expect(fake.chargedUsd).toBe(0.6);
    // A joiner with another --budget, or a bad name, is a usage error before anything is submitted.
    const other = await runBin([...args(2, 'w2'), '--run', 'night'], env);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("--run night: this worker's cap differs from the run it joins (--budget $2 here, $0.65 in the run)");
    const bad = await runBin([...args(CAP, 'w2'), '--run', 'night shift'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--run: the run name "night shift" is not allowed (it contains " ")');
    expect(fake.submissions).toHaveLength(4);
    // ep1 and ep2 are cached for the second worker, so its own plan admits ep3 ($0.30 of $0.65);
    // the run already spent $0.60, so the shared cap refuses it at reserve time. Its own run would pay.
    const second = await runBin([...args(CAP, 'w2'), '--run', 'night'], env);
    expect(second.code, second.stderr).toBe(1);
    expect(fake.chargedUsd).toBe(0.6);
    expect(fake.submissions).toHaveLength(4);
    const d = db();
    try {
      expect(d.prepare('SELECT count(*) AS n, max(spent_usd) AS spent FROM runs').get()).toEqual({ n: 1, spent: 0.6 });
      expect(d.prepare("SELECT round(sum(usd), 4) AS usd FROM run_holds WHERE state = 'held'").get()).toEqual({ usd: null });
    } finally {
      d.close();
    }
    const alone = await runBin(args(CAP, 'w3'), env);
    expect(alone.code, alone.stderr).toBe(0); // without --run the process is its own run, as before
    expect(fake.chargedUsd).toBe(0.9);
  }, 90_000);
});
