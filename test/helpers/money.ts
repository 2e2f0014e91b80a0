/** Runs of the library against the fake WaveSpeed, with what they saw and what the fake billed for them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render, type RenderOptions } from '../../pipeline/run/render.ts';
import type { FakeOptions, FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from './engine.ts';
import { FAST_POLICY } from './fast-policy.ts';
import { tinyProject } from './tasks.ts';

/**
 * For a test file: `setup(scenes)` starts a fake WaveSpeed and makes a
 * one-episode project of those scenes with an empty cache; every fake
 * started is stopped after each test.
 */
export function fakeProjects(): (scenes: string[], options?: Partial<FakeOptions>) => Promise<{ fake: FakeWavespeed; manifest: string; cacheDir: string }> {
  const fakes: FakeWavespeed[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });
  return async (scenes, options = {}) => {
    const fake = await startFake(options);
    fakes.push(fake);
    const { manifest } = tinyProject(manifestYaml({ ep1: scenes }));
    return { fake, manifest, cacheDir: mkdtempSync(path.join(tmpdir(), 'dl-cache-')) };
  };
}

/** A scene of `seconds` of dialogue (2.5 s + pause + 2.5 s) when seconds ≥ 5, else one 2.5 s line. */
export function sceneYaml(id: string, seconds: number, seed: number, resolution = '480p'): string {
  if (seconds < 5) return `      - { id: ${id}, left: tone-2500ms.wav, seed: ${seed}, resolution: ${resolution} }`;
  const pause = (seconds - 5).toFixed(2);
  return `      - { id: ${id}, lines: [{ left: tone-2500ms.wav }, { right: tone-2500ms.wav, pause: ${pause} }], seed: ${seed}, resolution: ${resolution} }`;
}

/** A manifest of episodes, each a list of scene lines from `sceneYaml`. */
export function manifestYaml(episodes: Record<string, string[]>): string {
  const lines = ['version: 1', 'defaults: { image: two-people.png }', 'episodes:'];
  for (const [id, scenes] of Object.entries(episodes)) lines.push(`  - id: ${id}`, '    scenes:', ...scenes);
  return `${lines.join('\n')}\n`;
}

export interface Run {
  seen: RunEvent[];
  /** Prediction ids this run submitted. */
  submitted: string[];
  summary: Extract<RunEvent, { type: 'summary' }>;
  result: Awaited<ReturnType<typeof render>>;
}

export function startRun(manifest: string, cacheDir: string, f: FakeWavespeed, extra: Partial<RenderOptions> = {}): { seen: RunEvent[]; done: Promise<Run> } {
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('event', (e) => seen.push(e));
  const done = render([manifest], {
    provider: 'wavespeed',
    apiKey: KEY,
    baseUrl: f.apiUrl,
    cacheDir,
    outDir: path.join(cacheDir, 'out'),
    policy: FAST_POLICY,
    waitPollMs: 20,
    report: false,
    events,
    ...extra,
  }).then((result) => ({
    seen,
    result,
    submitted: seen.flatMap((e) => (e.type === 'submitted' ? [e.predictionId] : [])),
    summary: seen.find((e) => e.type === 'summary') as Extract<RunEvent, { type: 'summary' }>,
  }));
  return { seen, done };
}

/** What the fake billed for these predictions. */
export const billedFor = (f: FakeWavespeed, ids: string[]) => Math.round(ids.reduce((sum, id) => sum + (f.charges.get(id) ?? 0), 0) * 10_000) / 10_000;
