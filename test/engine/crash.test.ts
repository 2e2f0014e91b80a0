/** Separate processes on one cache: kill -9 mid-flight, and two renders at once. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { renderChild, startFake, until } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const MANIFEST = `version: 1
defaults: { image: two-people.png }
episodes:
  - id: e1
    scenes:
      - { id: s1, left: tone-1s.wav, seed: 1 }
      - { id: s2, left: tone-2500ms.wav, seed: 2 }
      - { id: s3, right: tone-1s.wav, seed: 3 }
  - id: e2
    scenes:
      - { id: s4, left: tone-1s.wav, right: tone-2500ms.wav, seed: 4 }
      - { id: s5, lines: [{ left: tone-1s.wav }, { right: tone-1s.wav }], seed: 5 }
`;

const keysOf = (fake: FakeWavespeed) => fake.submissions.map((s) => JSON.stringify([s.body.seed, s.body.order, s.body.left_audio, s.body.right_audio]));

describe('crash safety and concurrent processes', () => {
  it('kill -9 mid-flight, then rerun: completes, every key submitted exactly once', async () => {
    // Slow processing (400 ms per video second) keeps predictions in flight when the kill lands.
    const fake = await startFake({ msPerVideoSecond: 400, maxConcurrent: 2 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-crash-'));
    const first = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl, concurrency: 5 });
    // Kill once every submit has its prediction id recorded and renders are still processing.
    // (A kill inside a submit request is a different case: see the ambiguous-submit test.)
    await until(() => first.events.filter((e) => e.type === 'submitted').length === 5, 'five submits recorded');
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();

    const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    const inFlight = db.prepare("SELECT count(*) n FROM renders WHERE status = 'in-flight' AND prediction_id IS NOT NULL").get() as { n: number };
    db.close();
    expect(inFlight.n).toBeGreaterThanOrEqual(3);

    const second = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl, concurrency: 5 });
    const code = await second.exit;
    expect(second.events.filter((e) => e.type === "failed")).toEqual([]);
    expect(code).toBe(0);
    expect(second.events.filter((e) => e.type === 'resumed').length).toBeGreaterThanOrEqual(3);
    const summary = second.events.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', failed: 0, skipped: 0 });
    const keys = keysOf(fake);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(5);
  });

  it('kill -9 inside a submit request: the next run finds the task in the provider\'s list and collects it, never submitting it again', async () => {
    const fake = await startFake({ msPerVideoSecond: 5 });
    fakes.push(fake);
    // The submit's answer is held back 1 s (inside the request's window), so the kill lands while the request is open.
    fake.script('submit', { kind: 'slow', ms: 1_000 });
    const { manifest } = tinyProject(MANIFEST.replace(/  - id: e2[\s\S]*$/, '').replace(/      - \{ id: s[23].*\n/g, ''));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-midsubmit-'));
    const first = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl });
    await until(() => fake.requests.some((r) => r.path.endsWith('/infinitetalk/multi')), 'the submit request to arrive');
    first.proc.kill('SIGKILL');
    await first.exit;
    const second = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl });
    expect(await second.exit).toBe(0);
    expect(fake.requests.filter((r) => r.path.endsWith('/infinitetalk/multi'))).toHaveLength(1);
    expect(fake.requests.some((r) => r.path === '/api/v3/predictions')).toBe(true);
  });

  it('three renders started together on one cache: each key submitted once, all exit 0', async () => {
    const fake = await startFake({ msPerVideoSecond: 50 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-twin-'));
    const children = [0, 1, 2].map(() => renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl }));
    expect(await Promise.all(children.map((c) => c.exit))).toEqual([0, 0, 0]);
    const keys = keysOf(fake);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(5);
    for (const child of children) {
      expect(child.events.at(-1)).toMatchObject({ type: 'summary', failed: 0, episodes: [{ status: 'complete' }, { status: 'complete' }] });
    }
  });
});
