/**
 * Attack (issue 13): a 429 storm on the submits of two workers of one named
 * run, paced together through the shared store (`--tier bronze`). A 429
 * proves no task was created, so: one paid prediction per key, every
 * episode finished, and once both are done nothing is left held on the
 * run's books and what was charged is what is spent.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

describe('attack: a 429 storm on two workers of one run', () => {
  it('one paid prediction per key, nothing left held, spent = charged', { timeout: 120_000 }, async () => {
    const fake = await startFake({ seed: 7 });
    fakes.push(fake);
    fake.rates('submit', [{ fault: { kind: 'status', status: 429 }, rate: 0.6 }]);
    const { manifest } = tinyProject();
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', ...s3.env(), DUOLOGUE_STORE: url, DUOLOGUE_CLIPS: `s3://${BUCKET}/storm` };
    const worker = (name: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), `dl-storm-${name}-`));
      return runCli(['render', manifest, '--provider', 'wavespeed', '--tier', 'bronze', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report', '--run', 'nightly-storm', '--budget', '2'], env);
    };
    const [a, b] = await Promise.all([worker('a'), worker('b')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(fake.injected.get('submit') ?? 0).toBeGreaterThan(0); // the storm really happened
    expect(fake.submissions).toHaveLength(3);
    expect(new Set(fake.submissions.map((s) => JSON.stringify(s.body))).size).toBe(3);
    const server = connect(url);
    try {
      const [run] = await server.sql.rows<{ id: number }>("SELECT id FROM runs WHERE name = 'nightly-storm'");
      const holds = await server.sql.rows<{ state: string; usd: number }>('SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds WHERE run_id = $1 GROUP BY state', [run.id]);
      const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
      expect({ held: of('held'), spent: of('spent') }).toEqual({ held: 0, spent: fake.chargedUsd });
    } finally {
      await server.pool.end();
    }
  });
});
