import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render, type RenderOptions } from '../../pipeline/run/render.ts';
import { deriveSeed } from '../../pipeline/manifest/seed.ts';
import { planToText } from '../../pipeline/report/plan-text.ts';
import type { RunReport } from '../../pipeline/report/run-report.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** Two episodes; `shared.wav` is used by exactly two scenes (one line each). */
const SERIES = `version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
      - { id: a, left: tone-1s.wav, right: tone-2500ms.wav, seed: 1 }
      - { id: b, lines: [{ left: shared.wav }, { right: tone-1s.wav, pause: 0.2 }], seed: 2 }
  - id: ep2
    scenes:
      - { id: c, left: tone-2500ms.wav, seed: 3 }
      - { id: d, lines: [{ right: shared.wav }, { left: tone-1s.wav }] }
      - { id: e, right: tone-1s.wav, order: left_right, seed: 5, resolution: 720p }
`;

async function project() {
  const { dir, manifest } = tinyProject(SERIES);
  const fs = await import('node:fs');
  fs.copyFileSync(path.join(dir, 'tone-1s.wav'), path.join(dir, 'shared.wav'));
  return { dir, manifest, cacheDir: mkdtempSync(path.join(tmpdir(), 'dl-eng-cache-')) };
}

/** The seed the fake received for each scene's submit, by scene id. */
function sentSeeds(seen: RunEvent[], fake: FakeWavespeed): Record<string, unknown> {
  const seedOf = new Map(fake.submissions.map((sub) => [sub.id, sub.body.seed]));
  return Object.fromEntries(seen.flatMap((ev) => (ev.type === 'submitted' ? [[ev.scene, seedOf.get(ev.predictionId)]] : [])));
}

async function run(manifest: string, cacheDir: string, fake: FakeWavespeed, extra: Partial<RenderOptions> = {}) {
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('event', (e) => seen.push(e));
  const result = await render([manifest], {
    provider: 'wavespeed',
    apiKey: KEY,
    baseUrl: fake.apiUrl,
    cacheDir,
    outDir: path.join(cacheDir, 'out'),
    policy: FAST_POLICY,
    waitPollMs: 20,
    events,
    ...extra,
  });
  const summary = seen.find((e) => e.type === 'summary') as Extract<RunEvent, { type: 'summary' }>;
  return { result, seen, summary };
}

describe('render engine (fake WaveSpeed, real SQLite, real ffmpeg)', () => {
  it('pays once: a second run submits nothing; one changed line re-renders exactly the scenes using it', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { dir, manifest, cacheDir } = await project();
    const first = await run(manifest, cacheDir, fake);
    expect(first.summary).toMatchObject({ rendered: 5, cached: 0, failed: 0, skipped: 0 });
    expect(first.summary.cost_usd).toBeGreaterThan(0);
    expect(fake.submissions).toHaveLength(5);

    const second = await run(manifest, cacheDir, fake);
    expect(second.summary).toMatchObject({ rendered: 0, cached: 5, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(5);

    appendFileSync(path.join(dir, 'shared.wav'), Buffer.alloc(2)); // one changed line's audio
    const third = await run(manifest, cacheDir, fake);
    expect(third.summary).toMatchObject({ rendered: 2, cached: 3 });
    expect(fake.submissions).toHaveLength(7);
    const redone = third.seen.filter((e) => e.type === 'done').map((e) => (e as { scene: string }).scene).sort();
    expect(redone).toEqual(['b', 'd']);
    expect(third.result.plan.episodes[0].scenes[1].cache.reason).toBe('left audio changed');
  });

  it('the API receives exactly the manifest seeds; a scene without one gets its derived seed, the same every run', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest, cacheDir } = await project();
    const first = await run(manifest, cacheDir, fake);
    // d has no seed: derived from "ep2"/"d". Pinned here because changing the derivation would
    // change the key of every scene without a seed, so every user would pay for all of them again.
    const DERIVED_D = 410691626;
    expect(sentSeeds(first.seen, fake)).toEqual({ a: 1, b: 2, c: 3, d: DERIVED_D, e: 5 });
    expect(first.result.plan.episodes[1].scenes[1]).toMatchObject({ sceneId: 'd', seed: DERIVED_D, seedSource: 'derived' });

    const again = await run(manifest, cacheDir, fake);
    expect(again.result.plan.episodes[1].scenes[1]).toMatchObject({ seed: DERIVED_D, seedSource: 'derived' });
    expect(again.summary).toMatchObject({ rendered: 0, cached: 5 });
    expect(fake.submissions).toHaveLength(5);
  });

  it('random seeds ("random" and -1) are drawn, sent, shown in the plan and the report; pinning the shown seed hits the cache', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest, cacheDir } = await project();
    writeFileSync(manifest, SERIES.replace('seed: 3 }', 'seed: random }').replace('seed: 5,', 'seed: -1,'));
    const first = await run(manifest, cacheDir, fake);
    const [c, , e] = first.result.plan.episodes[1].scenes;
    for (const drawn of [c, e]) {
      expect(drawn.seedSource).toBe('random');
      expect(Number.isInteger(drawn.seed) && drawn.seed >= 0 && drawn.seed <= 2_147_483_647).toBe(true);
      // Drawn, not quietly derived (a clash has odds of 1 in 2^31).
      expect(drawn.seed).not.toBe(deriveSeed(drawn.episodeId, drawn.sceneId));
    }
    // The API got a concrete seed, the drawn one; the fixed ones are untouched.
    expect(sentSeeds(first.seen, fake)).toMatchObject({ a: 1, b: 2, c: c.seed, e: e.seed });
    // Shown where a person looks for it: the plan's table and the run report.
    const table = planToText(first.result.plan, [], (id) => id, { cwd: cacheDir });
    expect(table).toContain(`${c.seed} (random)`);
    expect(table).toContain(`${e.seed} (random)`);
    const report = JSON.parse(readFileSync(path.join(cacheDir, 'out', 'report.json'), 'utf8')) as RunReport;
    const reported = Object.fromEntries(report.episodes.flatMap((ep) => ep.scenes).map((s) => [s.id, [s.seed, s.seed_source]]));
    expect(reported).toMatchObject({ c: [c.seed, 'random'], e: [e.seed, 'random'], a: [1, 'manifest'] });

    // Pinning the shown seeds reuses the paid renders: nothing is submitted again.
    writeFileSync(manifest, SERIES.replace('seed: 3 }', `seed: ${c.seed} }`).replace('seed: 5,', `seed: ${e.seed},`));
    const pinned = await run(manifest, cacheDir, fake);
    expect(pinned.summary).toMatchObject({ rendered: 0, cached: 5 });
    expect(fake.submissions).toHaveLength(5);
  });

  it('budget below the total: reservations never exceed it, whole episodes only, skipped listed', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest, cacheDir } = await project();
    // ep1 costs 2 × $0.15 = $0.30; ep2 costs $0.15 + $0.15 + $0.30 = $0.60.
    const { result, seen, summary } = await run(manifest, cacheDir, fake, { budgetUsd: 0.5 });
    const held = seen.filter((e) => e.type === 'spend').map((e) => (e as { reservedUsd: number; spentUsd: number }).reservedUsd + (e as { spentUsd: number }).spentUsd);
    expect(Math.max(...held)).toBeLessThanOrEqual(0.5);
    expect(summary.episodes).toEqual([
      { id: 'ep1', status: 'complete', output: path.join(cacheDir, 'out', 'ep1.mp4') },
      { id: 'ep2', status: 'incomplete', output: null },
    ]);
    expect(summary).toMatchObject({ rendered: 2, skipped: 3 });
    expect(result.schedule.scenes.filter((s) => s.outcome === 'skipped').map((s) => s.error)).toEqual(['over budget', 'over budget', 'over budget']);
    expect(fake.submissions).toHaveLength(2);
  });

  it('--allow-partial: an episode with skipped scenes is stitched with slates and still reported incomplete', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest, cacheDir } = await project();
    const { result, summary } = await run(manifest, cacheDir, fake, { budgetUsd: 0.5, allowPartial: true });
    expect(summary.episodes[1]).toMatchObject({ id: 'ep2', status: 'incomplete', output: expect.stringMatching(/ep2\.mp4$/) });
    const sidecar = JSON.parse(readFileSync(`${summary.episodes[1].output}.json`, 'utf8'));
    expect(sidecar.scenes.map((s: { slate: boolean }) => s.slate)).toEqual([true, true, true]);
    expect(result.episodes[1].reason).toMatch(/3 scenes without a clip \(over budget\)/);
  });

  it('fault mix (20% 500s, 429s, one failed prediction): finishes; only the failed scene\'s episode is incomplete', async () => {
    const fake = await startFake({ seed: 7 });
    fakes.push(fake);
    fake.rates('result', [{ fault: { kind: 'status', status: 500 }, rate: 0.2 }]);
    fake.rates('upload', [{ fault: { kind: 'status', status: 500 }, rate: 0.2 }]);
    fake.rates('output', [{ fault: { kind: 'status', status: 503 }, rate: 0.2 }]);
    fake.script('submit', { kind: 'status', status: 429, retryAfter: '0' }, { kind: 'fail', error: 'no faces found' });
    const { manifest, cacheDir } = await project();
    const { result, summary } = await run(manifest, cacheDir, fake, { concurrency: 1, policy: { ...FAST_POLICY, maxAttempts: 8 } });
    expect(summary.failed).toBe(1);
    const failed = result.schedule.scenes.find((s) => s.outcome === 'failed')!;
    expect(failed.error).toMatch(/failed: no faces found/);
    const statuses = Object.fromEntries(summary.episodes.map((e) => [e.id, e.status]));
    const otherEpisode = failed.scene.episodeId === 'ep1' ? 'ep2' : 'ep1';
    expect(statuses[failed.scene.episodeId]).toBe('incomplete');
    expect(statuses[otherEpisode]).toBe('complete');
    // Each key went through one accepted submit, except the failed one (not billed, so the next run retries it).
    expect(new Set(fake.submissions.map((s) => s.body.seed)).size).toBe(fake.submissions.length);
    const rerun = await run(manifest, cacheDir, fake, { policy: { ...FAST_POLICY, maxAttempts: 8 } });
    expect(rerun.summary, JSON.stringify(rerun.seen.filter((e) => e.type === 'failed'))).toMatchObject({ rendered: 1, cached: 4, failed: 0 });
  });

  it('Ctrl-C: stops submitting, keeps what is in flight; the next run resumes instead of paying again', async () => {
    const fake = await startFake({ msPerVideoSecond: 300, maxConcurrent: 1 });
    fakes.push(fake);
    const { manifest, cacheDir } = await project();
    const controller = new AbortController();
    const events = new RunEvents();
    events.on('event', (e) => {
      if (e.type === 'submitted') controller.abort();
    });
    const { result } = await run(manifest, cacheDir, fake, { signal: controller.signal, events, concurrency: 1 });
    expect(result.schedule.interrupted).toBe(true);
    expect(fake.submissions).toHaveLength(1);
    expect(result.schedule.scenes.filter((s) => s.outcome === 'interrupted')).toHaveLength(5);
    const again = await run(manifest, cacheDir, fake);
    expect(again.seen.filter((e) => e.type === 'resumed')).toHaveLength(1);
    expect(again.summary).toMatchObject({ rendered: 5, failed: 0 });
    expect(fake.submissions).toHaveLength(5);
  });

  it('a 401 stops the run with E_AUTH', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest, cacheDir } = await project();
    // Refused at the first call of the run (the live price quote), before anything could be paid.
    await expect(run(manifest, cacheDir, fake, { apiKey: 'sk-wrong' })).rejects.toMatchObject({ code: 'E_AUTH' });
    expect(fake.submissions).toHaveLength(0);
  });
});
