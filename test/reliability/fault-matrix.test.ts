/**
 * Each fault type at 0, 10 and 30% against the fake server: no scene is lost
 * (each ends rendered, or failed with a reason, and a rerun finishes it), no
 * key is submitted twice, and the API key never leaves the API origin. Each
 * cell also shows that its faults happened: every route it targets served at
 * least one (a cell that injected nothing would prove nothing).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunEvents } from '../../pipeline/events.ts';
import { render } from '../../pipeline/run/render.ts';
import type { Fault, FakeWavespeed, Route } from '../fakes/wavespeed-server.ts';
import { cannedClip, oneSecondSeries } from '../helpers/canned.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const SCENES = 6;
// Tasks a run submitted are looked at on the shared prediction list; a task's own result is asked
// for only when a look fails (or for a failed task), so 'result' gets the same faults unasserted.
const FAULTS: { name: string; routes: Route[]; fault: Fault }[] = [
  { name: '500', routes: ['upload', 'list', 'output'], fault: { kind: 'status', status: 500 } },
  { name: '429', routes: ['upload', 'submit', 'list'], fault: { kind: 'status', status: 429, retryAfter: '0' } },
  { name: 'reset', routes: ['upload', 'list', 'output'], fault: { kind: 'reset' } },
  { name: 'malformed JSON', routes: ['list'], fault: { kind: 'malformed' } },
  { name: 'truncated output', routes: ['output'], fault: { kind: 'truncated' } },
];
const RATES = [0, 0.1, 0.3];

let canned: string;
beforeAll(async () => {
  canned = await cannedClip();
});

export interface MatrixRow {
  fault: string;
  rate: number;
  runs: number;
  firstRunFailed: number;
  submits: number;
  uniqueKeys: number;
  requests: number;
  /** Faults the fake served, per route. */
  injected: Partial<Record<Route, number>>;
}

/**
 * The fake's seed per cell. The fake draws each route's faults from its own
 * seeded stream, so a route's n-th request gets the same draw whatever the
 * timing. Every cell makes at least 3 uploads (image, tone, silence), 6
 * submits, 1 list look and 6 downloads that succeed; a seed whose first
 * fault on each targeted route falls within those counts injects at least one
 * there on every run. These are the smallest seeds that do so (the assertions below check it).
 */
const SEEDS: Record<string, number> = {
  'clean 0': 1,
  '500 10': 50,
  '500 30': 20,
  '429 10': 50,
  '429 30': 20,
  'reset 10': 50,
  'reset 30': 20,
  'malformed JSON 10': 19,
  'malformed JSON 30': 1,
  'truncated output 10': 1,
  'truncated output 30': 1,
};

function injectedOn(fake: FakeWavespeed): Partial<Record<Route, number>> {
  return Object.fromEntries(fake.injected);
}

export async function matrixCell(name: string, routes: Route[], fault: Fault, rate: number, scenes: number, canned: string, seed = SEEDS[`${rate === 0 ? 'clean' : name} ${rate * 100}`] ?? 1): Promise<MatrixRow> {
  const fake = await startFake({ cannedOutput: canned, cannedSeconds: 1, msPerVideoSecond: 5, seed });
  try {
    for (const route of routes) fake.rates(route, [{ fault, rate }]);
    if (routes.includes('list') && fault.kind !== 'truncated') fake.rates('result', [{ fault, rate }]);
    const { manifest } = tinyProject(oneSecondSeries(scenes));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-matrix-'));
    let runs = 0;
    let firstRunFailed = 0;
    for (; runs < 4; ) {
      runs++;
      const events = new RunEvents();
      const result = await render([manifest], { provider: 'wavespeed', apiKey: KEY, baseUrl: fake.apiUrl, cacheDir, outDir: path.join(cacheDir, 'out'), policy: FAST_POLICY, events, report: false, concurrency: 3 });
      const outcomes = result.schedule.scenes.map((s) => s.outcome);
      // Not lost: every scene is accounted for, and a failure carries its reason.
      expect(outcomes).toHaveLength(scenes);
      for (const s of result.schedule.scenes) {
        expect(['rendered', 'cached', 'failed']).toContain(s.outcome);
        if (s.outcome === 'failed') expect(s.error).toMatch(/\S/);
      }
      if (runs === 1) firstRunFailed = outcomes.filter((o) => o === 'failed').length;
      if (process.env.DL_DEBUG) for (const s of result.schedule.scenes) if (s.error) console.log(name, rate, s.error);
      if (result.episodes.every((e) => e.status === 'complete')) break;
    }
    expect(runs).toBeLessThan(4);
    const keys = fake.submissions.map((s) => String(s.body.seed));
    // "Malformed JSON" on a submit answer is not scripted here: that one is ambiguous by design.
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(scenes);
    for (const r of fake.requests) {
      if (r.origin === 'cdn') expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.origin === 'cdn' ? r.headers : {})).not.toContain(KEY);
    }
    // The cell tested something: each route it targets served faults (and a clean cell none).
    const injected = injectedOn(fake);
    if (rate === 0) expect(injected).toEqual({});
    else for (const route of routes) expect(injected[route] ?? 0, `${name} at ${rate * 100}%: faults served on ${route}`).toBeGreaterThanOrEqual(1);
    return { fault: name, rate, runs, firstRunFailed, submits: keys.length, uniqueKeys: new Set(keys).size, requests: fake.requests.length, injected };
  } finally {
    await fake.stop();
  }
}

describe('fault matrix (fake WaveSpeed)', () => {
  const rows: MatrixRow[] = [];
  for (const f of FAULTS) {
    for (const rate of RATES) {
      if (rate === 0 && f !== FAULTS[0]) continue; // 0% is the same clean run for every fault type
      it(`${f.name} at ${rate * 100}%: faults served on ${f.routes.join(', ')}; nothing lost, nothing submitted twice, key stays home`, async () => {
        rows.push(await matrixCell(rate === 0 ? 'clean' : f.name, f.routes, f.fault, rate, SCENES, canned));
      });
    }
  }
  // One table for RELIABILITY.md: runs needed and faults served per cell.
  afterAll(() => {
    const line = (r: MatrixRow) => {
      const faults = Object.entries(r.injected).map(([route, n]) => `${route} ${n}`).join(', ') || 'none';
      return `| ${r.fault} | ${r.rate * 100}% | ${r.runs} run${r.runs === 1 ? '' : 's'} | ${faults} |`;
    };
    console.log(['| fault | rate | runs | faults served |', '|---|---|---|---|', ...rows.map(line)].join('\n'));
  });
});
