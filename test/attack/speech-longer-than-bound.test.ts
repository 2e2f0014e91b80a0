/**
 * Attack (issue 14): a line comes back far longer than its text suggests
 * (a slow, pause-heavy read), so the scene's real video costs more than the
 * bound its episode was admitted on. The cap must still hold: the scene's
 * video is held (not submitted) when its exact cost does not fit beside
 * what was spent, and every other scene still renders.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { startFake } from '../helpers/engine.ts';
import { events, fakeEnv, scriptProject } from '../helpers/script-project.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

describe('attack: speech longer than the reserved bound', () => {
  it('the scene whose video no longer fits is held; spent never passes the cap', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    // The first line voiced runs 25 s longer than its text: its scene's video is ~27 s ($0.81), far past its bound.
    f.script('speech', { kind: 'stretch', seconds: 25 });
    const p = scriptProject([['One.', 'Two.'], ['Three.', 'Four.']]);
    const cli = await runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--json', '--no-report', '--budget', '0.8', '--concurrency', '1'], fakeEnv(f));
    expect(cli.code, cli.stderr).toBe(1);
    expect(f.speechSubmissions).toHaveLength(4);
    expect(f.chargedUsd).toBeLessThanOrEqual(0.8);
    const seen = events(cli.stdout);
    const spends = seen.filter((e) => e.type === 'spend') as { reservedUsd: number; spentUsd: number }[];
    for (const s of spends) expect(s.reservedUsd + s.spentUsd).toBeLessThanOrEqual(0.8 + 1e-9);
    // The other episode's scene is rendered; the long one is not.
    expect(f.submissions).toHaveLength(1);
    const summary = seen.find((e) => e.type === 'summary') as { cost_usd: number; rendered: number; skipped: number };
    expect(summary).toMatchObject({ rendered: 1 });
    expect(summary.cost_usd).toBeCloseTo(f.chargedUsd, 4);
  });
});
