/**
 * Each fault type at 0, 10 and 30% against the fake server: no scene is lost
 * (each ends rendered, or failed with a reason, and a rerun finishes it), no
 * key is submitted twice, and the API key never leaves the API origin.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunEvents } from '../../pipeline/events.ts';
import { render } from '../../pipeline/render.ts';
import type { Fault, Route } from '../fakes/wavespeed-server.ts';
import { cannedClip, oneSecondSeries } from '../helpers/canned.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const SCENES = 6;
const FAULTS: { name: string; routes: Route[]; fault: Fault }[] = [
  { name: '500', routes: ['upload', 'result', 'output'], fault: { kind: 'status', status: 500 } },
  { name: '429', routes: ['upload', 'submit', 'result'], fault: { kind: 'status', status: 429, retryAfter: '0' } },
  { name: 'reset', routes: ['upload', 'result', 'output'], fault: { kind: 'reset' } },
  { name: 'malformed JSON', routes: ['result'], fault: { kind: 'malformed' } },
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
}

export async function matrixCell(name: string, routes: Route[], fault: Fault, rate: number, scenes: number, canned: string): Promise<MatrixRow> {
  const fake = await startFake({ cannedOutput: canned, cannedSeconds: 1, msPerVideoSecond: 5, seed: Math.round(rate * 100) + name.length });
  try {
    for (const route of routes) fake.rates(route, [{ fault, rate }]);
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
    return { fault: name, rate, runs, firstRunFailed, submits: keys.length, uniqueKeys: new Set(keys).size, requests: fake.requests.length };
  } finally {
    await fake.stop();
  }
}

describe('fault matrix (fake WaveSpeed)', () => {
  for (const f of FAULTS) {
    for (const rate of RATES) {
      if (rate === 0 && f !== FAULTS[0]) continue; // 0% is the same clean run for every fault type
      it(`${f.name} at ${rate * 100}%: nothing lost, nothing submitted twice, key stays home`, async () => {
        const row = await matrixCell(f.name, f.routes, f.fault, rate, SCENES, canned);
        console.log(JSON.stringify(row));
      });
    }
  }
});
