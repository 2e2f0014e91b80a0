/**
 * Two machines, one cache: two CLI renders with cache dirs of their own,
 * sharing one PostgreSQL (state) and one S3 bucket (clips), against the fake
 * WaveSpeed. The second machine pays nothing: it finds every render complete
 * and downloads (and checks) the first machine's clips, and writes the same
 * episode byte for byte.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { PASSWORD, usePostgres } from '../helpers/postgres.ts';
import { BUCKET, S3_SECRET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

function summaryOf(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('scaling out: a shared store and shared clips', () => {
  it('a second machine with an empty cache dir pays nothing and writes a byte-identical episode', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest } = tinyProject();
    const store = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', ...s3.env(), DUOLOGUE_STORE: store };
    const machine = (name: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), `dl-${name}-`));
      return ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report'];
    };
    const clips = `s3://${BUCKET}/nightly`;

    const first = await runCli([...machine('a'), '--clips', clips], env);
    expect(first.code, first.stderr).toBe(0);
    const a = summaryOf(first.stdout);
    expect(a).toMatchObject({ rendered: 3, cached: 0, failed: 0 });
    expect(a.cost_usd).toBeGreaterThan(0);
    expect(fake.submissions).toHaveLength(3);

    // The flag's environment twin: the second machine is configured the CI way.
    const second = await runCli(machine('b'), { ...env, DUOLOGUE_CLIPS: clips });
    expect(second.code, second.stderr).toBe(0);
    const b = summaryOf(second.stdout);
    expect(b).toMatchObject({ rendered: 0, cached: 3, failed: 0, cost_usd: 0 });
    expect(fake.submissions).toHaveLength(3); // nothing submitted again
    expect(readFileSync(b.episodes[0].output).equals(readFileSync(a.episodes[0].output))).toBe(true);

    // The shared ledger shows both runs; no password anywhere (the ledger keeps each run's command line).
    const status = await runCli(['status', '--json', '--store', store, '--clips', clips], env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).runs).toHaveLength(2);
    for (const out of [first.stdout, first.stderr, second.stdout, second.stderr, status.stdout]) {
      expect(out).not.toContain(PASSWORD);
      expect(out).not.toContain(encodeURIComponent(PASSWORD));
    }
    // The plan of a third machine counts every clip as cached (they are in the bucket, not in its cache dir).
    const plan = await runCli(['plan', manifest, '--json', '--cache-dir', path.join(mkdtempSync(path.join(tmpdir(), 'dl-c-')), 'cache')], { ...env, DUOLOGUE_CLIPS: clips });
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).totals).toMatchObject({ render: 0, cached: 3 });
    // A machine given the wrong prefix sees every clip missing: it stops, and pays for none of them again.
    const wrong = await runCli(machine('e'), { ...env, DUOLOGUE_CLIPS: `s3://${BUCKET}/nightyl` });
    expect(wrong.code, wrong.stderr + wrong.stdout.slice(-1500)).toBe(1);
    expect(wrong.stderr).toMatch(/error \[E_STORE\]: .*not rendered again on a guess/);
    expect(fake.submissions).toHaveLength(3);
    // `cache verify` on a fourth machine downloads each clip and checks it against the shared store's sha256.
    const verify = await runCli(['cache', 'verify', '--cache-dir', path.join(mkdtempSync(path.join(tmpdir(), 'dl-d-')), 'cache')], { ...env, DUOLOGUE_CLIPS: clips });
    expect(verify.stdout, verify.stderr).toMatch(/verified 3 clips: 3 ok, 0 damaged/);
  });

  it('a clip that cannot be published does not count: the run stops, the prediction stays in flight, and the next run collects it without paying again', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest } = tinyProject();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', ...s3.env(), DUOLOGUE_STORE: await pg.fresh() };
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-pub-'));
    const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report'];
    // A bucket that is not there: every upload is refused after the clip was paid for and downloaded.
    const refused = await runCli([...args, '--clips', 's3://no-such-bucket/x'], env);
    // The run stops at the first refused upload: later clips would be paid for and not count either.
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error \[E_STORE\]: .*s3:\/\/no-such-bucket\/x\/clips\//);
    expect(refused.stderr).toContain('is kept and the next run collects its clip at no charge');
    const submitted = fake.submissions.length;
    expect(submitted).toBeGreaterThanOrEqual(1);

    const again = await runCli([...args, '--clips', `s3://${BUCKET}/retry`], env);
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ rendered: 3, failed: 0 });
    // One submit per key over both runs: what the first run paid for was collected, not paid again.
    expect(fake.submissions).toHaveLength(3);
    expect(new Set(fake.submissions.map((x) => JSON.stringify(x.body))).size).toBe(3);
  });

  it('--store without --clips, and cache gc with either, are usage errors', async () => {
    const store = await pg.fresh();
    const { manifest } = tinyProject();
    const noClips = await runCli(['plan', manifest, '--store', store]);
    expect(noClips.code).toBe(2);
    expect(noClips.stderr).toMatch(/--store \(DUOLOGUE_STORE\) needs --clips/);
    expect((await runCli(['render', manifest, '--provider', 'local'], { DUOLOGUE_STORE: store })).code).toBe(2);
    const gc = await runCli(['cache', 'gc', '--clips', `s3://${BUCKET}/x`], s3.env());
    expect(gc.code).toBe(2);
    expect(gc.stderr).toMatch(/cache gc works on this machine's cache dir alone/);
  });

  it('an unreachable store is reported without its password', async () => {
    const { manifest } = tinyProject();
    const url = `postgres://duologue:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/duologue`;
    const run = await runCli(['plan', manifest, '--store', url, '--clips', `s3://${BUCKET}/x`], s3.env());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error \[E_STORE\]: the cache database at .* cannot be reached/);
    expect(run.stderr).not.toContain(PASSWORD);
    expect(run.stderr).not.toContain(S3_SECRET);
  });
});
