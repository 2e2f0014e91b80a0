/**
 * Attack (issue 13): a CI runner whose DUOLOGUE_STORE secret is missing (an
 * empty variable, as GitHub Actions gives for an unset secret) but whose
 * DUOLOGUE_CLIPS is set. `--clips` without `--store` is accepted, so the
 * runner keeps its state in its own fresh SQLite cache dir: every scene
 * whose clip already sits in the bucket under its content-addressed key
 * (paid for last night by the runners that had the store) is a miss and is
 * paid for again.
 *
 * Fixed: `render` refuses shared clips without the shared store (exit 2,
 * as the reverse already was), before anything is submitted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

describe('attack: shared clips, the store forgotten', () => {
  it('a runner without the store does not pay again for clips already in the bucket (was a bug: --clips without --store paid for every scene again)', { timeout: 60_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest } = tinyProject();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/nightly` };
    const machine = (name: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), `dl-nostore-${name}-`));
      return ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report'];
    };
    const first = await runCli(machine('a'), { ...env, DUOLOGUE_STORE: await pg.fresh() });
    expect(first.code, first.stderr).toBe(0);
    expect(fake.submissions).toHaveLength(3);

    // The next night's runner: the store secret is empty, the clips variable is set.
    const second = await runCli(machine('b'), { ...env, DUOLOGUE_STORE: '' });
    // Refused before any spend.
    expect(fake.submissions).toHaveLength(3);
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/need the shared store too/);
  });
});
