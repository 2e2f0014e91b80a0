/**
 * The account against the fake WaveSpeed over real HTTP: the balance is a
 * second cap with whole-episode admission, a submit refused for lack of money
 * stops further submits (in-flight scenes still collected), a live price that
 * differs from the table stops the run before spending, and
 * `status --reconcile` compares the ledger with the billing records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { billedFor, manifestYaml, sceneYaml, startRun } from '../helpers/money.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The environment of a run against the fake: its key and address, the client's waits scaled down. */
const envFor = (f: FakeWavespeed) => ({ WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.001' });

/** `duologue render` in-process against the fake. */
const renderAgainst = (f: FakeWavespeed, manifest: string, cacheDir: string) =>
  runCli(['render', manifest, '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--no-report'], envFor(f));

async function fake(): Promise<FakeWavespeed> {
  const f = await startFake();
  fakes.push(f);
  return f;
}

/** Episodes of one short scene each ($0.15 at 480p, billed the 5 s minimum). */
function project(episodes: number): { dir: string; manifest: string; cacheDir: string } {
  const eps: Record<string, string[]> = {};
  for (let i = 1; i <= episodes; i++) eps[`ep${i}`] = [sceneYaml('a', 2.5, i)];
  const p = tinyProject(manifestYaml(eps));
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-account-cache-'));
  dirs.push(p.dir, cacheDir);
  return { ...p, cacheDir };
}

describe('balance: a second cap beside --budget', () => {
  it('admits whole episodes under the balance read before the first submit; the rest are skipped "over balance"', async () => {
    const f = await fake();
    f.account.balanceUsd = 0.35; // two $0.15 episodes fit, a third does not
    const { manifest, cacheDir } = project(3);
    const run = await startRun(manifest, cacheDir, f).done;
    expect(run.result.plan.budgets.find((b) => b.kind === 'balance')).toMatchObject({ limitUsd: 0.35, reservedUsd: 0.3 });
    expect(run.result.plan.episodes.map((e) => e.admitted)).toEqual([true, true, false]);
    expect(run.result.plan.episodes[2].skipReason).toMatch(/^over balance: needs \$0\.15, \$0\.05 of the account's \$0\.35 balance left/);
    expect(f.submitCount()).toBe(2);
    expect(run.summary).toMatchObject({ rendered: 2, skipped: 1, cost_usd: billedFor(f, run.submitted) });
    expect(f.account.balanceUsd).toBe(0.05);
    // Read before any submit.
    const paths = f.requests.map((r) => r.path);
    expect(paths.indexOf('/api/v3/balance')).toBeLessThan(paths.indexOf('/api/v3/wavespeed-ai/infinitetalk/multi'));
    expect(f.requests.filter((r) => r.path === '/api/v3/balance').every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });

  it('a balance that cannot pay for any episode: nothing is submitted, the run says so and exits 1', async () => {
    const f = await fake();
    f.account.balanceUsd = 0.1;
    const { manifest, cacheDir } = project(2);
    const cli = await renderAgainst(f, manifest, cacheDir);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/balance \(\$0\.10\) cannot pay for any episode.*nothing is submitted/);
    expect(cli.stderr).not.toContain(KEY);
    expect(f.submitCount()).toBe(0);
  });

  it('a submit refused for lack of money (402) stops further submits; the scene in flight is still collected', async () => {
    const f = await fake();
    const { manifest, cacheDir } = project(4);
    const started = startRun(manifest, cacheDir, f, { concurrency: 1 });
    // Someone else spends the account down while the first scene renders.
    await until(() => started.seen.some((e) => e.type === 'submitted'), 'the first submit');
    f.account.balanceUsd = 0.2;
    const run = await started.done;
    expect(f.account.refused).toBe(1); // one refusal, then no more submits
    expect(f.submitCount()).toBe(1);
    expect(run.summary).toMatchObject({ rendered: 1, skipped: 3, failed: 0 });
    expect(run.result.schedule.balanceError?.code).toBe('E_BALANCE');
    expect(run.seen.some((e) => e.type === 'warning' && /^WaveSpeed refused a submit: the account's balance cannot pay for it \(.*\)\. Nothing more is submitted this run; scenes in flight are still collected\. Top up and run again\.$/.test(e.message))).toBe(true);
    expect(run.result.schedule.scenes.filter((s) => s.outcome === 'skipped').map((s) => s.error)).toEqual(['insufficient balance', 'insufficient balance', 'insufficient balance']);
    expect(run.summary.cost_usd).toBe(f.chargedUsd);
    // The refused scenes are not held or ambiguous: a run after a top-up renders them.
    f.account.balanceUsd = 10;
    const again = await startRun(manifest, cacheDir, f).done;
    expect(again.summary).toMatchObject({ rendered: 3, cached: 1, failed: 0 });
  });
});

describe('live prices', () => {
  it('a live price that differs from the table stops the run before spending', async () => {
    const f = await fake();
    f.account.priceFactor = 2;
    const { manifest, cacheDir } = project(1);
    const cli = await renderAgainst(f, manifest, cacheDir);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('WaveSpeed quotes $0.3000, the table says $0.1500');
    expect(cli.stderr).toContain('--accept-live-prices');
    expect(f.submitCount()).toBe(0);
    expect(f.account.quotes[0]).toMatchObject({ model_id: 'wavespeed-ai/infinitetalk/multi', inputs: { order: 'meanwhile', resolution: '480p', seed: 1 } });
  });

  it('--accept-live-prices reserves and records at the quoted prices (a budget the table would fit no longer does)', async () => {
    const f = await fake();
    f.account.priceFactor = 2;
    const { manifest, cacheDir } = project(2);
    const run = await startRun(manifest, cacheDir, f, { acceptLivePrices: true, budgetUsd: 0.45 }).done;
    expect(run.result.plan.episodes.map((e) => [e.admitted, e.neededMaxUsd])).toEqual([
      [true, 0.3],
      [false, 0.3],
    ]);
    expect(f.submitCount()).toBe(1);
    expect(run.summary.cost_usd).toBe(0.3);
    expect(f.chargedUsd).toBe(0.3);
    expect(run.seen.some((e) => e.type === 'warning' && e.message.includes('reserving and recording at the quoted prices'))).toBe(true);
  });

  it('a discounted price equal to the table is what counts', async () => {
    const f = await fake();
    f.account.priceFactor = 2;
    f.account.discount = 0.5;
    const { manifest, cacheDir } = project(1);
    // Quotes $0.30, discounted to $0.15 = the table: the run goes on (the fake bills the undiscounted rule here).
    const run = await startRun(manifest, cacheDir, f).done;
    expect(f.submitCount()).toBe(1);
    expect(run.result.plan.provider.priceTable).not.toContain('live');
  });
});

describe('status --reconcile', () => {
  it('an earlier run\'s paid, refused prediction still reconciles after a later run re-renders the key', async () => {
    const f = await startFake({ lengthDeviation: (n) => (n === 0 ? 2 : 0) }); // the first clip comes back 2 s too long
    fakes.push(f);
    const p = tinyProject(manifestYaml({ ep1: [sceneYaml('a', 2.5, 81)] }));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-account-cache-'));
    dirs.push(p.dir, cacheDir);
    const first = await startRun(p.manifest, cacheDir, f).done;
    expect(first.summary.failed).toBe(1);
    const second = await startRun(p.manifest, cacheDir, f).done;
    expect(second.summary.rendered).toBe(1);
    const env = envFor(f);
    for (const run of [first, second]) {
      const check = await runCli(['status', '--reconcile', String(run.result.runId), '--cache-dir', cacheDir], env);
      expect(check.stdout, check.stderr).toContain('the ledger equals the invoice');
      expect(check.code).toBe(0);
    }
  });

  it('the ledger equals the invoice; a billed amount that differs is listed and exits 1', async () => {
    const f = await fake();
    const { manifest, cacheDir } = project(2);
    const run = await startRun(manifest, cacheDir, f).done;
    expect(run.summary.rendered).toBe(2);
    const env = envFor(f);
    const ok = await runCli(['status', '--reconcile', '--cache-dir', cacheDir], env);
    expect(ok.stdout).toContain('the ledger equals the invoice');
    expect(ok.code).toBe(0);
    const json = await runCli(['status', '--reconcile', String(run.result.runId), '--cache-dir', cacheDir, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ run: run.result.runId, recorded_usd: 0.3, billed_usd: 0.3, differences: 0 });

    f.account.billings[0].price = 0.18; // WaveSpeed billed a scene more than duologue recorded
    f.account.billings.push({ uuid: 'bill-x', billing_type: 'prediction', price: 0.15, created_at: new Date().toISOString(), prediction: { uuid: 'pred-unknown', status: 'completed' } });
    const off = await runCli(['status', '--reconcile', '--cache-dir', cacheDir], env);
    expect(off.code).toBe(1);
    expect(off.stdout).toMatch(/DIFFERS: billed differs from recorded/);
    expect(off.stdout).toMatch(/pred-unknown.*DIFFERS: billed during the run, not recorded by duologue/);
    expect(off.stdout).toContain('2 differences');
    expect(off.stdout + off.stderr).not.toContain(KEY);
  });

  it('billing records are read page by page; a failing billing endpoint is retried', async () => {
    const f = await fake();
    const { manifest, cacheDir } = project(1);
    await startRun(manifest, cacheDir, f).done;
    for (let i = 0; i < 150; i++) f.account.billings.unshift({ uuid: `old-${i}`, billing_type: 'prediction', price: 0.03, created_at: new Date(Date.now() - 86_400_000).toISOString(), prediction: { uuid: `older-${i}`, status: 'completed' } });
    f.account.script('billings', { kind: 'status', status: 503 });
    const ok = await runCli(['status', '--reconcile', '--cache-dir', cacheDir], envFor(f));
    expect(ok.stdout).toContain('the ledger equals the invoice');
    expect(ok.code).toBe(0);
  });

  it('without a key it is a usage error', async () => {
    const { cacheDir } = project(1);
    expect((await runCli(['status', '--reconcile', '--cache-dir', cacheDir])).code).toBe(2);
  });
});

describe('plan', () => {
  it('--provider wavespeed works without a key (prices from the table); with a key it shows the balance', async () => {
    const f = await fake();
    f.account.balanceUsd = 0.2;
    const { manifest, cacheDir } = project(2);
    const bare = await runCli(['plan', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('provider: wavespeed');
    expect(bare.stdout).not.toContain('balance');
    const keyed = await runCli(['plan', manifest, '--cache-dir', cacheDir], envFor(f));
    expect(keyed.code).toBe(0);
    expect(keyed.stdout).toContain('WaveSpeed balance: $0.20, $0.15 reserved — skipped: ep2');
    expect(keyed.stdout).toMatch(/ep2 .*SKIPPED: over balance/);
    expect(f.submitCount()).toBe(0);
  });

  it('a price that changed at one resolution only is caught: each resolution the run would pay for is quoted', async () => {
    const f = await fake();
    f.account.priceFactors = { '720p': 2 };
    const p2 = tinyProject(manifestYaml({ ep9: [sceneYaml('a', 5, 71), sceneYaml('b', 5, 72, '720p')] }));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-account-cache-'));
    dirs.push(p2.dir, cacheDir);
    const run = startRun(p2.manifest, cacheDir, f, { budgetUsd: 0.9 }).done;
    await expect(run).rejects.toMatchObject({ code: 'E_PRICE', message: expect.stringMatching(/WaveSpeed quotes \$0\.6000, the table says \$0\.3000 \(ep9\/b, 720p\)/) });
    expect(f.submissions).toHaveLength(0);
  });
});
