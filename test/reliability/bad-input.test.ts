/**
 * A generated corpus of broken manifests (wrong types, missing fields, bad
 * paths, huge values, unicode, YAML bombs, deep nesting): every one exits 2
 * with a positioned message, none crashes or hangs, none reaches the API.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const BASE: Json = {
  version: 1,
  title: 'Base',
  budget: 5,
  defaults: { image: 'two-people.png', resolution: '480p', order: 'meanwhile', prompt: 'two people', seed: 7 },
  episodes: [
    {
      id: 'ep1',
      title: 'One',
      scenes: [
        { id: 'a', left: 'tone-1s.wav', right: 'tone-2500ms.wav', order: 'left_right', seed: 1 },
        { id: 'b', lines: [{ left: 'tone-1s.wav' }, { right: 'tone-1s.wav', pause: 0.5 }] },
      ],
    },
  ],
};

/** Every path to a value in the base document. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push([...prefix, i], ...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...paths(v, [...prefix, k]));
  return out;
}

function mutate(p: (string | number)[], change: (parent: any, key: string | number) => void): Json {
  const copy = structuredClone(BASE) as any;
  let parent = copy;
  for (const k of p.slice(0, -1)) parent = parent[k];
  change(parent, p[p.length - 1]);
  return copy;
}

const REPLACEMENTS: [string, Json][] = [
  ['null', null],
  ['number', 12345],
  ['negative', -1],
  ['huge number', 1e308],
  ['string', 'nonsense'],
  ['list', ['x']],
  ['mapping', { x: 1 }],
  ['unicode', 'épisode 🎬 ＃'],
  ['long string', 'x'.repeat(5000)],
  ['empty string', ''],
  ['bool', true],
];

function corpus(): { name: string; text: string }[] {
  const cases: { name: string; text: string }[] = [];
  const everyPath = paths(BASE);
  for (const p of everyPath) {
    for (const [label, value] of REPLACEMENTS) {
      const doc = mutate(p, (parent, key) => (parent[key] = value));
      cases.push({ name: `${p.join('.')} = ${label}`, text: stringify(doc) });
    }
    cases.push({ name: `${p.join('.')} deleted`, text: stringify(mutate(p, (parent, key) => (Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key]))) });
  }
  const paths_ = ['missing.wav', '../../../../etc/passwd', '/dev/null', '.', 'sub/dir/', 'ünïcødé.wav', 'tone-1s.wav\u0000.png', 'C:\\\\win\\\\path.wav'];
  // Files that decode but that a renderer cannot use: GIFs, animated WebP, an mp3 with cover art, 50 ms of audio.
  for (const name of ['still.gif', 'animated.gif', 'animated.webp', 'cover-art.mp3', 'tone-50ms.wav']) paths_.push(path.join(import.meta.dirname, '../fixtures/media', name));
  for (const bad of paths_) {
    cases.push({ name: `image path ${JSON.stringify(bad)}`, text: stringify(mutate(['defaults', 'image'], (parent, key) => (parent[key] = bad))) });
    cases.push({ name: `audio path ${JSON.stringify(bad)}`, text: stringify(mutate(['episodes', 0, 'scenes', 0, 'left'], (parent, key) => (parent[key] = bad))) });
  }
  cases.push({ name: 'billion laughs', text: `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nversion: 1\nepisodes: *d\n` });
  cases.push({ name: 'deep flow nesting', text: `version: 1\nepisodes: ${'['.repeat(5000)}${']'.repeat(5000)}\n` });
  cases.push({ name: 'tabs', text: 'version: 1\nepisodes:\n\t- id: a\n' });
  cases.push({ name: 'unterminated quote', text: 'version: 1\ntitle: "oops\nepisodes: []\n' });
  cases.push({ name: 'duplicate episode ids', text: stringify({ ...(BASE as object), episodes: [(BASE as any).episodes[0], (BASE as any).episodes[0]] }) });
  cases.push({ name: '700 s scene', text: stringify(mutate(['episodes', 0, 'scenes', 1, 'lines'], (parent, key) => (parent[key] = Array.from({ length: 12 }, () => ({ left: 'tone-1s.wav', pause: 60 }))))) });
  return cases;
}

/**
 * The mutations that leave a valid manifest, each for a reason; every other
 * one must be refused (exit 2, positioned) before anything is spent. A new
 * mutation that slips through, or one of these that starts being refused,
 * fails the test until this list is updated on purpose.
 */
const STILL_VALID = new Set([
  // Optional fields: any text, or left out.
  'title = string', 'title = unicode', 'title = long string', 'title deleted',
  'episodes.0.title = string', 'episodes.0.title = unicode', 'episodes.0.title = long string', 'episodes.0.title = empty string', 'episodes.0.title deleted',
  'defaults.prompt = string', 'defaults.prompt = unicode', 'defaults.prompt = empty string', 'defaults.prompt deleted',
  // A budget is any non-negative amount, or none.
  'budget = number', 'budget = huge number', 'budget deleted',
  // Defaults fall back to the built-in ones.
  'defaults.resolution deleted', 'defaults.order deleted', 'episodes.0.scenes.0.order deleted',
  // Seeds: 12345 is in range, -1 means "random", none is derived.
  'defaults.seed = number', 'defaults.seed = negative', 'defaults.seed deleted',
  'episodes.0.scenes.0.seed = number', 'episodes.0.scenes.0.seed = negative', 'episodes.0.scenes.0.seed deleted',
  // "nonsense" matches the id pattern.
  'episodes.0.id = string', 'episodes.0.scenes.0.id = string', 'episodes.0.scenes.1.id = string',
  // One scene, one side or one line still makes a scene / an episode.
  'episodes.0.scenes.0 deleted', 'episodes.0.scenes.1 deleted',
  'episodes.0.scenes.0.left deleted', 'episodes.0.scenes.0.right deleted',
  'episodes.0.scenes.1.lines.0 deleted', 'episodes.0.scenes.1.lines.1 deleted', 'episodes.0.scenes.1.lines.1.pause deleted',
  // An mp3 with cover art is fine audio (as an image it is refused).
  `audio path ${JSON.stringify(path.join(import.meta.dirname, '../fixtures/media', 'cover-art.mp3'))}`,
]);

let fake: FakeWavespeed;
let dir: string;
beforeAll(async () => {
  fake = await startFake();
  dir = tinyProject().dir;
});
afterAll(async () => fake.stop());

describe('bad input corpus', () => {
  it('200+ mutated manifests: the listed ones stay valid, every other exits 2 with file:line:col; none crashes, hangs or submits', async () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const names = new Set(cases.map((c) => c.name));
    expect([...STILL_VALID].filter((n) => !names.has(n))).toEqual([]); // the list names real cases
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const file = path.join(dir, `case-${i}.yaml`);
      writeFileSync(file, c.text);
      const run = await Promise.race([
        // --budget 0: a mutation that is still valid is planned and skipped whole (exit 1), never paid.
        runCli(['render', file, '--budget', '0', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--no-report'], { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hang: ${c.name}`)), 20_000)),
      ]);
      if (STILL_VALID.has(c.name)) {
        if (run.code !== 1 || !/skipped/.test(run.stderr)) failures.push(`${c.name}: listed as valid, but exit ${run.code}\n${run.stderr.slice(0, 400)}`);
        continue;
      }
      const positioned = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+[ :]`);
      if (run.code !== 2 || !positioned.test(run.stderr) || /internal error|\n\s+at /.test(run.stderr)) {
        failures.push(`${c.name}: exit ${run.code}\n${run.stderr.slice(0, 400)}`);
      }
    }
    console.log(`bad-input corpus: ${cases.length} manifests, ${cases.length - STILL_VALID.size} refused with exit 2 and a positioned message, ${STILL_VALID.size} still valid (planned, skipped at budget 0)`);
    expect(failures).toEqual([]);
    expect(fake.requests).toEqual([]); // nothing reached the API: no upload, no submit
  }, 300_000);
});
