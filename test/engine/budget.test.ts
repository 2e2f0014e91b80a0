/**
 * The budget invariant, tested against what the fake WaveSpeed itself bills
 * (by delivered length, by its own rule): spent + reserved ≤ cap at every
 * instant, and the money billed for a run's submits never exceeds its cap —
 * with clips longer than planned, failures, and two runs on one cache.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../pipeline/events.ts';
import { mulberry32, type FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { startFake, until } from '../helpers/engine.ts';
import { billedFor, sceneYaml, startRun } from '../helpers/money.ts';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fake(options: Parameters<typeof startFake>[0] = {}): Promise<FakeWavespeed> {
  const f = await startFake(options);
  fakes.push(f);
  return f;
}

function project(manifest: string): { dir: string; manifest: string; cacheDir: string } {
  const p = tinyProject(manifest);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-budget-cache-'));
  dirs.push(p.dir, cacheDir);
  return { ...p, cacheDir };
}

/** The invariant as the live view saw it, at every money event. */
function expectHeldUnderCap(seen: RunEvent[], cap: number): void {
  for (const e of seen) if (e.type === 'spend') expect(Math.round((e.spentUsd + e.reservedUsd) * 10_000) / 10_000).toBeLessThanOrEqual(cap);
}

describe('budget: spent + reserved ≤ cap, measured by what the provider bills', () => {
  it('clips delivered longer than planned (inside the check) cannot take the run over its cap', async () => {
    // Two scenes of 6.95 s ($0.21 each as planned) under $0.42; delivered 7.4 s long, billed 8 s = $0.24 each.
    const f = await fake({ lengthDeviation: () => 0.45 });
    const { manifest, cacheDir } = project(
      ['version: 1', 'defaults: { image: two-people.png }', 'episodes:', '  - id: ep1', '    scenes:', sceneYaml('a', 6.95, 1), '  - id: ep2', '    scenes:', sceneYaml('b', 6.95, 2), ''].join('\n'),
    );
    const run = await startRun(manifest, cacheDir, f, { budgetUsd: 0.42 }).done;
    expect(run.result.plan.episodes[0].scenes[0]).toMatchObject({ estimateUsd: 0.21, maxUsd: 0.24 });
    expect(f.chargedUsd).toBeLessThanOrEqual(0.42);
    expect(run.summary.cost_usd).toBe(f.chargedUsd); // what the run says it spent is what was billed
    expect(run.summary).toMatchObject({ rendered: 1, skipped: 1 });
    expectHeldUnderCap(run.seen, 0.42);
  });

  it('a scene planned free (another run had it in flight) is re-checked against the cap when that run’s prediction fails', async () => {
    const f = await fake({ msPerVideoSecond: 400 });
    const { manifest, cacheDir } = project(
      ['version: 1', 'defaults: { image: two-people.png }', 'episodes:', '  - id: ep1', '    scenes:', sceneYaml('x', 2.5, 1), sceneYaml('y', 2.5, 2), ''].join('\n'),
    );
    const { manifest: onlyX } = project(['version: 1', 'defaults: { image: two-people.png }', 'episodes:', '  - id: ep1', '    scenes:', sceneYaml('x', 2.5, 1), ''].join('\n'));
    f.script('submit', { kind: 'fail', error: 'server hiccup' }); // run A's x will fail
    const a = startRun(onlyX, cacheDir, f);
    await until(() => a.seen.some((e) => e.type === 'submitted'), 'run A submitting x');
    // Run B plans x as in flight ($0) and y at $0.15: $0.15 planned under a $0.25 cap.
    const b = startRun(manifest, cacheDir, f, { budgetUsd: 0.25 });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(rb.result.plan.totals.costUsd).toBe(0.15);
    expect(rb.result.plan.episodes[0].scenes[0].action).toBe('resume');
    expect(ra.summary.failed).toBe(1);
    // x turned into paid work for B: $0.15 spent + $0.15 more would pass $0.25, so it is skipped.
    expect(billedFor(f, rb.submitted)).toBeLessThanOrEqual(0.25);
    expect(rb.result.schedule.scenes.find((s) => s.scene.sceneId === 'x')).toMatchObject({ outcome: 'skipped', error: 'over budget' });
    expectHeldUnderCap(rb.seen, 0.25);
  });

  it('property: random lengths, clip deviations, failures and two concurrent runs — billed never passes a run’s cap', async () => {
    const rng = mulberry32(20261127);
    for (let round = 0; round < 3; round++) {
      const f = await fake({ msPerVideoSecond: 5, seed: round + 1, lengthDeviation: () => Math.round((rng() * 0.9 - 0.45) * 100) / 100 });
      f.rates('submit', [{ fault: { kind: 'fail', error: 'random failure' }, rate: 0.2 }]);
      const scenes = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, seconds: Math.round((4 + rng() * 4) * 100) / 100, res: rng() < 0.3 ? '720p' : '480p' }));
      const episodeOf = (i: number) => `ep${i % 3}`;
      const yaml = (pick: (i: number) => boolean) => {
        const lines = ['version: 1', 'defaults: { image: two-people.png }', 'episodes:'];
        for (const ep of ['ep0', 'ep1', 'ep2']) {
          const mine = scenes.filter((s, i) => episodeOf(i) === ep && pick(i));
          if (mine.length === 0) continue;
          lines.push(`  - id: ${ep}`, '    scenes:', ...mine.map((s) => sceneYaml(s.id, s.seconds, Number(s.id.slice(1)) + 100, s.res)));
        }
        return `${lines.join('\n')}\n`;
      };
      const one = project(yaml(() => true));
      const other = tinyProject(yaml((i) => i % 2 === 0)); // overlaps the first run's scenes
      dirs.push(other.dir);
      const capA = Math.round((0.2 + rng() * 0.6) * 100) / 100;
      const capB = Math.round((0.2 + rng() * 0.4) * 100) / 100;
      const a = startRun(one.manifest, one.cacheDir, f, { budgetUsd: capA, concurrency: 3 });
      const b = startRun(other.manifest, one.cacheDir, f, { budgetUsd: capB, concurrency: 2, outDir: path.join(other.dir, 'out') });
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const label = `round ${round}: caps ${capA}/${capB}, scenes ${JSON.stringify(scenes)}`;
      expect(billedFor(f, ra.submitted), label).toBeLessThanOrEqual(capA);
      expect(billedFor(f, rb.submitted), label).toBeLessThanOrEqual(capB);
      expect(f.chargedUsd, label).toBeLessThanOrEqual(Math.round((capA + capB) * 100) / 100);
      expectHeldUnderCap(ra.seen, capA);
      expectHeldUnderCap(rb.seen, capB);
      // One paid prediction per cache key (same inputs and seed), across both runs.
      const paidBySeed = new Map<string, number>();
      for (const s of f.submissions) if (f.charges.has(s.id)) paidBySeed.set(String(s.body.seed), (paidBySeed.get(String(s.body.seed)) ?? 0) + 1);
      expect([...paidBySeed.values()].every((n) => n === 1), label).toBe(true);
      await f.stop();
      fakes.splice(fakes.indexOf(f), 1);
    }
  });

  it('a clip longer than the check accepts: refused, its real charge counted; after two paid tries the key is held until --retry-held', async () => {
    const f = await fake({ lengthDeviation: () => 3 });
    const { manifest, cacheDir } = project(['version: 1', 'defaults: { image: two-people.png }', 'episodes:', '  - id: ep1', '    scenes:', sceneYaml('long', 6, 7), ''].join('\n'));
    const first = await startRun(manifest, cacheDir, f).done;
    expect(first.summary.failed).toBe(1);
    expect(first.summary.cost_usd).toBe(f.chargedUsd); // 9 s delivered: $0.27, counted though unusable
    expect(f.chargedUsd).toBe(0.27);
    await startRun(manifest, cacheDir, f).done;
    expect(f.submissions).toHaveLength(2);
    const third = await startRun(manifest, cacheDir, f).done;
    expect(f.submissions).toHaveLength(2); // held: not paid a third time
    expect(third.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', code: 'E_HELD', costUsd: 0 });
    expect(third.result.schedule.scenes[0].error).toMatch(/held: paid 2 times without a usable clip .*--retry-held/);
    const status = await runCli(['status', '--cache-dir', cacheDir, '--json']);
    expect(JSON.parse(status.stdout).held).toMatchObject([{ episode: 'ep1', scene: 'long', paid_attempts: 2, error: expect.stringMatching(/lasts 9\.\d+ s/) }]);
    expect((await runCli(['status', '--cache-dir', cacheDir])).stdout).toMatch(/held: 1 .*--retry-held[\s\S]*ep1\/long .*paid 2×/);
    const again = await startRun(manifest, cacheDir, f, { retryHeld: true }).done;
    expect(f.submissions).toHaveLength(3);
    expect(again.summary.failed).toBe(1);
  });

  it('a run’s books: a prediction collected by a later run is counted once, in the run that paid', async () => {
    const f = await fake();
    const { manifest, cacheDir } = project(['version: 1', 'defaults: { image: two-people.png }', 'episodes:', '  - id: ep1', '    scenes:', sceneYaml('s', 2.5, 3), ''].join('\n'));
    f.script('output', { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const first = await startRun(manifest, cacheDir, f).done;
    expect(first.summary.failed).toBe(1);
    expect(first.summary.cost_usd).toBe(0.15);
    const second = await startRun(manifest, cacheDir, f).done;
    expect(f.submissions).toHaveLength(1);
    expect(second.summary).toMatchObject({ rendered: 1, cost_usd: 0 });
    expect(f.chargedUsd).toBe(0.15);
    writeFileSync(path.join(cacheDir, 'touch'), ''); // keep the cache dir in use till here
  });
});
