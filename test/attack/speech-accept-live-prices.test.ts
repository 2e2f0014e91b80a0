/**
 * Attack (issue 14): a script of text lines rendered with
 * `--accept-live-prices` while WaveSpeed's live price differs from the
 * table. Before speech no scene has audio to quote on, so the quote is
 * asked when the first scene is released; the user said to go on at the
 * live price, so the scene is rendered, reserved and recorded at that price
 * (not held back), and the cap still holds at the live price.
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

const render = (p: ReturnType<typeof scriptProject>, f: FakeWavespeed, extra: string[]) =>
  runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--json', '--no-report', ...extra], fakeEnv(f));

describe('attack: --accept-live-prices on lines written as text', () => {
  it('renders the scene at the live price, and reserves and records at it', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.account.priceFactor = 1.2;
    const p = scriptProject();
    const cli = await render(p, f, ['--accept-live-prices', '--budget', '1']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(f.speechSubmissions).toHaveLength(2);
    expect(f.submissions).toHaveLength(1);
    const summary = events(cli.stdout).find((e) => e.type === 'summary') as { cost_usd: number };
    // What the run recorded (speech and video) is what WaveSpeed charged: the video at the live price.
    expect(f.charges.get(f.submissions[0].id)).toBe(0.18);
    expect(summary.cost_usd).toBeCloseTo(f.chargedUsd, 4);
    expect(cli.stderr).toContain('reserving and recording 480p scenes at the quoted prices');
  });

  it('a budget that fits the table but not the live price: the video is not submitted', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.account.priceFactor = 2.5;
    const p = scriptProject();
    // Admitted on the table's bound (planned $0.36: speech, and the video's upper bound), but the live video costs $0.375.
    const cli = await render(p, f, ['--accept-live-prices', '--budget', '0.37']);
    expect(cli.stderr).toContain('planned $0.36 of $0.37');
    expect(cli.code).toBe(1);
    expect(f.speechSubmissions).toHaveLength(2);
    expect(f.submissions).toHaveLength(0);
    expect(f.chargedUsd).toBeLessThanOrEqual(0.37);
  });

  it('without it, a differing live price submits no video', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.account.priceFactor = 1.2;
    const p = scriptProject();
    const cli = await render(p, f, ['--budget', '1']);
    expect(cli.code).toBe(1);
    expect(f.submissions).toHaveLength(0);
    expect(cli.stderr).toContain('--accept-live-prices');
  });
});
