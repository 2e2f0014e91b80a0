/**
 * Attack (issue 13): episodes are admitted whole ("an episode whose
 * remaining cost does not fit is skipped"), but a worker that joins a named
 * run after some of its money is spent plans against the full `--budget`,
 * not against what the run has left. A rerun CI job of the run (same
 * `--run`, same cap) sees the first episode cached (cost 0), admits the
 * second as if the whole cap were free, and starts paying for it; the
 * shared cap then refuses its last scene. Money is spent on an episode that
 * cannot be finished within the cap -- what whole-episode admission exists
 * to prevent. A single run with the same cap skips that episode and pays
 * nothing for it.
 *
 * Fixed: a worker that joins a run someone else created plans (admits
 * episodes) against the cap minus what the run has spent in each pool
 * (PlanInput.spentUsd, from the shared books); only spent money counts, as
 * a live worker's holds are for keys the joiner may count as misses too.
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

// Each scene: 2.5 s at 480p, billed 5 s = $0.15 (at most $0.15 too); each episode $0.30.
const TWO_EPISODES = `version: 1
defaults: { image: two-people.png, prompt: two people talking, order: meanwhile }
episodes:
  - id: ep1
    scenes:
      - { id: a, left: tone-1s.wav, right: tone-2500ms.wav, seed: 1 }
      - { id: b, left: tone-1s.wav, right: tone-2500ms.wav, seed: 2 }
  - id: ep2
    scenes:
      - { id: c, left: tone-1s.wav, right: tone-2500ms.wav, seed: 3 }
      - { id: d, left: tone-1s.wav, right: tone-2500ms.wav, seed: 4 }
`;

describe('attack: a late joiner of a named run admits episodes against the whole cap', () => {
  it('the joiner pays nothing for an episode the run can no longer afford (was a bug: it paid for part of it)', { timeout: 60_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest } = tinyProject(TWO_EPISODES);
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', ...s3.env(), DUOLOGUE_STORE: await pg.fresh(), DUOLOGUE_CLIPS: `s3://${BUCKET}/late-join` };
    const worker = (name: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), `dl-late-${name}-`));
      return runCli(['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report', '--run', 'nightly-late', '--budget', '0.45'], env);
    };
    const first = await worker('a');
    // ep1 fits ($0.30 of $0.45), ep2 does not ($0.60): skipped whole, nothing paid for it.
    expect(first.code, first.stderr).toBe(1);
    expect(fake.submissions).toHaveLength(2);
    expect(fake.chargedUsd).toBe(0.3);

    // The job is rerun (same run, same cap): $0.15 left, ep2 still needs $0.30.
    const rerun = await worker('b');
    expect(rerun.code).toBe(1);
    expect(fake.submissions).toHaveLength(2);
  });
});
