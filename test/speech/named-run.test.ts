/**
 * Lines written as text under `render --run NAME`: two workers on one cache
 * voice and render one script together, each speech key and each video key
 * paid once, the run's books adding up to the invoice; a worker that joins
 * after every line is voiced plans the same run (the fingerprint is of the
 * text) and pays nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const SHOW = `version: 1
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman }, right: { voice: Deep_Voice_Man } }
episodes:
${[1, 2]
  .map(
    (e) => `  - id: ep${e}
    scenes:
      - { id: a, lines: [{ left: { say: "Episode ${e}, first line." } }, { right: { say: "And its answer, ${e}." } }] }
      - { id: b, right: { say: "Episode ${e} ends here." } }
`,
  )
  .join('')}`;
const CAP = 2;

const fakes: FakeWavespeed[] = [];
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true', ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('render --run NAME with lines written as text', () => {
  it('two workers voice and render one script: each line and each scene paid once, the books match the invoice; a late worker pays nothing', async () => {
    const fake = await startFake({ msPerVideoSecond: 100 });
    fakes.push(fake);
    const { dir, manifest } = tinyProject(SHOW);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-named-'));
    dirs.push(dir, cacheDir);
    const args = (out: string) => ['render', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir, '--out', path.join(cacheDir, out), '--no-report', '--budget', String(CAP), '--run', 'night'];
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '2' };

    const workers = await Promise.all(['w1', 'w2'].map((w) => runBin(args(w), env)));
    for (const w of workers) expect(w.code, w.stderr).toBe(0);
    const texts = fake.speechSubmissions.map((s) => String(s.body.text));
    expect(new Set(texts).size).toBe(texts.length); // no line voiced twice
    expect(texts).toHaveLength(6);
    expect(fake.submissions).toHaveLength(4); // no scene rendered twice
    expect(fake.chargedUsd).toBeLessThanOrEqual(CAP);

    const d = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    try {
      const runs = d.prepare('SELECT id, name, spent_usd FROM runs').all() as { id: number; name: string; spent_usd: number }[];
      expect(runs).toEqual([{ id: runs[0].id, name: 'night', spent_usd: fake.chargedUsd }]);
      const holds = d.prepare("SELECT state, round(sum(usd), 4) AS usd, count(*) AS n FROM run_holds WHERE run_id = ? GROUP BY state").all(runs[0].id);
      expect(holds).toEqual([{ state: 'spent', usd: fake.chargedUsd, n: 10 }]); // 6 lines + 4 scenes
    } finally {
      d.close();
    }

    // Every line is voiced now: a worker joining now plans the same run (same fingerprint), and pays nothing.
    const late = await runBin(args('w3'), env);
    expect(late.code, late.stderr).toBe(0);
    expect(fake.speechSubmissions).toHaveLength(6);
    expect(fake.submissions).toHaveLength(4);
  });

  it('under a cap smaller than the work, the two workers together voice and render only what the cap admitted, within it', async () => {
    const fake = await startFake({ msPerVideoSecond: 100 });
    fakes.push(fake);
    const { dir, manifest } = tinyProject(SHOW);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-named-cap-'));
    dirs.push(dir, cacheDir);
    // Each episode holds up to ≈ $0.45 (10 s + 5 s of video bound, and its speech): $0.60 admits ep1 only.
    const cap = 0.6;
    const args = (out: string) => ['render', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir, '--out', path.join(cacheDir, out), '--no-report', '--budget', String(cap), '--run', 'night'];
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '2' };
    const workers = await Promise.all(['w1', 'w2'].map((w) => runBin(args(w), env)));
    for (const w of workers) expect(w.code, w.stderr).toBe(1); // incomplete: ep2 does not fit
    expect(fake.speechSubmissions.map((s) => String(s.body.text)).sort()).toEqual(['And its answer, 1.', 'Episode 1 ends here.', 'Episode 1, first line.']);
    expect(fake.submissions).toHaveLength(2);
    expect(fake.chargedUsd).toBeLessThanOrEqual(cap);
    const d = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    try {
      const run = d.prepare('SELECT id, spent_usd FROM runs').get() as { id: number; spent_usd: number };
      expect(run.spent_usd).toBe(fake.chargedUsd);
      expect(d.prepare("SELECT state, count(*) AS n FROM run_holds WHERE run_id = ? GROUP BY state").all(run.id)).toEqual([{ state: 'spent', n: 5 }]);
    } finally {
      d.close();
    }
  });
});
