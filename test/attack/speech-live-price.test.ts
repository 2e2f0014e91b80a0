/**
 * Attack (issue 14): WaveSpeed's speech price is not the table's (MiniMax
 * raised it). Speech is "priced before spend" like video: the live price of
 * a line is asked before anything is paid, and a price that differs stops
 * the run before any request that costs money, naming the quote and the table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { startFake } from '../helpers/engine.ts';
import { fakeEnv, scriptProject } from '../helpers/script-project.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const render = (p: ReturnType<typeof scriptProject>, f: FakeWavespeed, extra: string[] = []) =>
  runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report', '--budget', '1', ...extra], fakeEnv(f));

describe('attack: a live speech price that differs from the table', () => {
  it('stops the run before any spend, naming the quote', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.account.speechPriceFactor = 3;
    const p = scriptProject();
    const cli = await render(p, f);
    expect(cli.code).not.toBe(0);
    expect(f.speechSubmissions).toHaveLength(0);
    expect(f.submissions).toHaveLength(0);
    expect(cli.stderr).toMatch(/speech/i);
    expect(cli.stderr).toMatch(/quotes \$0\.00\d+/);
  });

  it('with --accept-live-prices: voiced, reserved and recorded at the quote', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.account.speechPriceFactor = 3;
    const p = scriptProject();
    const cli = await render(p, f, ['--accept-live-prices', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(f.speechSubmissions).toHaveLength(2);
    expect(cli.stderr).toMatch(/reserving and recording speech at the quoted price/);
    const summary = cli.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; cost_usd?: number }).find((e) => e.type === 'summary')!;
    // Speech at 3× the table, rounded per line as the provider does: within a cent-hundredth of what was charged.
    expect(Math.abs(summary.cost_usd! - f.chargedUsd)).toBeLessThanOrEqual(0.0002);
  });

  it('the table price: the run goes on', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    const p = scriptProject();
    const cli = await render(p, f);
    expect(cli.code, cli.stderr).toBe(0);
    expect(f.speechSubmissions).toHaveLength(2);
  });
});
