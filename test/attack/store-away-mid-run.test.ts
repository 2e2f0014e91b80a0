/**
 * Attack (issue 13): the shared store goes away mid-run. A worker of a
 * named run has every scene in flight when PostgreSQL is stopped; the
 * predictions finish meanwhile. The worker must stop with E_STORE (not
 * hang, not crash), nothing half-written may count, and once the server
 * is back, the next worker of the run collects the predictions without
 * paying again, with the run's books whole (nothing held, the charges
 * spent). The same with the bucket (s3rver) stopped while the clips are
 * being published, and started again on the same port and folder.
 */
import { describe, expect, it } from 'vitest';
import { useHostWorkers, query } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import S3rver from 's3rver';
import { BUCKET, startS3, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();

const { fakes, worker } = useHostWorkers();



describe('attack: PostgreSQL stopped mid-run and started again', () => {
  it('the worker stops with E_STORE; the next one collects everything at no charge, books whole', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.hold();
    const { manifest } = tinyProject();
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/pg-away` };
    const run = ['--run', 'nightly-pg-away', '--budget', '5'];

    const a = worker('machine-a', manifest, env, run);
    await until(() => fake.submissions.length === 3 || a.child.exitCode !== null, 'worker A to submit', 60_000);
    for (let i = 0; i < 300; i++) {
      const rows = await query<{ status: string }>(url, 'SELECT status FROM renders');
      if (rows.length === 3 && rows.every((r) => r.status === 'in-flight')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await pg.stop();
    fake.release();
    const codeA = await a.exit;
    expect(codeA, a.stderr()).toBe(1);
    expect(a.stderr()).toMatch(/E_STORE/);
    expect(a.stderr()).not.toMatch(/internal error/);
    await pg.start();

    const b = worker('machine-b', manifest, env, run);
    expect(await b.exit, b.stderr()).toBe(0);
    expect(fake.submissions).toHaveLength(3);
    const [runRow] = await query<{ id: number }>(url, "SELECT id FROM runs WHERE name = 'nightly-pg-away'");
    const holds = await query<{ state: string; usd: number }>(url, 'SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds WHERE run_id = $1 GROUP BY state', [runRow.id]);
    const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
    expect({ held: of('held'), spent: of('spent') }).toEqual({ held: 0, spent: fake.chargedUsd });
  });
  it('the bucket stopped while clips are published: the worker stops with E_STORE; the next one collects everything at no charge', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.hold();
    const { manifest } = tinyProject();
    const url = await pg.fresh();
    let bucket = await startS3();
    const env = {
      WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${bucket.port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', DUOLOGUE_CLIPS: `s3://${BUCKET}/s3-away`,
    };
    const run = ['--run', 'nightly-s3-away', '--budget', '5'];
    try {
      const a = worker('machine-a', manifest, env, run);
      await until(() => fake.submissions.length === 3 || a.child.exitCode !== null, 'worker A to submit', 60_000);
      await bucket.server.close();
      fake.release();
      expect(await a.exit, a.stderr()).toBe(1);
      expect(a.stderr()).toMatch(/E_STORE/);
      bucket = { ...bucket, server: new S3rver({ address: '127.0.0.1', port: bucket.port, silent: true, directory: bucket.directory, configureBuckets: [{ name: BUCKET, configs: [] }] }) };
      await bucket.server.run();

      const b = worker('machine-b', manifest, env, run);
      expect(await b.exit, b.stderr()).toBe(0);
      expect(fake.submissions).toHaveLength(3);
      const [runRow] = await query<{ id: number }>(url, "SELECT id FROM runs WHERE name = 'nightly-s3-away'");
      const holds = await query<{ state: string; usd: number }>(url, 'SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds WHERE run_id = $1 GROUP BY state', [runRow.id]);
      const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
      // A settled what it held (the worst case) when its publish failed; the books never hold less than was paid.
      expect(of('held')).toBe(0);
      expect(of('spent')).toBeGreaterThanOrEqual(fake.chargedUsd);
    } finally {
      await bucket.server.close().catch(() => {});
    }
  });
});
