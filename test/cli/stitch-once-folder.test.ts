/**
 * One stitcher per episode with a local `--out` folder: three `duologue
 * render` processes on one host (one host name, so one folder is one output)
 * on one PostgreSQL and one bucket, same `--run`, the same `--out` folder:
 * each episode stitched once, its bytes those one machine alone writes, its
 * provenance sidecar beside it as ever. (Across hosts: stitch-once.test.ts.)
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { aloneEpisodes, startMachine } from '../helpers/machine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const pg = usePostgres();
const s3 = useS3();
const scene = (id: string, seed: number) => `      - { id: ${id}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${seed} }\n`;
const SHOW = `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n${[1, 2, 3].map((e) => `  - id: ep${e}\n    scenes:\n${scene('a', e * 10 + 1)}${scene('b', e * 10 + 2)}`).join('')}`;

const { fakes, children } = useProcesses();

async function fake(): Promise<FakeWavespeed> {
  const f = await startFake({ msPerVideoSecond: 100, maxConcurrent: 6 });
  fakes.push(f);
  return f;
}

describe('one stitcher per episode, one shared folder', () => {
  it('workers of one host sharing a local --out folder: each episode stitched once, the bytes of one machine alone, with its sidecar', { timeout: 150_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    // The reference: the same manifest on one machine alone (SQLite, a folder).
    const alone = await aloneEpisodes(manifest, (await fake()).apiUrl);

    const f = await fake();
    const store = await pg.fresh();
    // A 20 s lease: nobody dies here, and a loaded machine must not lapse a stitch claim (a takeover is correct, but not "once").
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '20', DUOLOGUE_STORE: store, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/folder` };
    const outDir = mkdtempSync(path.join(tmpdir(), 'dl-shared-out-'));
    // One host name for all three: one folder, so one output per episode.
    const machines = [0, 1, 2].map(() => startMachine('one-host', manifest, env, ['--run', 'night', '--out', outDir], children));
    const codes = await Promise.all(machines.map((m) => m.exit));
    for (const [i, m] of machines.entries()) expect(codes[i], m.stderr()).toBe(0);

    const server = connect(store);
    const rows = await server.sql.rows<{ episode_id: string; status: string; claim_epoch: number }>('SELECT episode_id, status, claim_epoch FROM episode_stitches ORDER BY episode_id').finally(() => server.pool.end());
    expect(rows.map((r) => [r.episode_id, r.status, r.claim_epoch])).toEqual(['ep1', 'ep2', 'ep3'].map((id) => [id, 'written', 1]));
    expect(readdirSync(outDir).sort()).toEqual(['ep1.mp4', 'ep1.mp4.json', 'ep2.mp4', 'ep2.mp4.json', 'ep3.mp4', 'ep3.mp4.json']);
    for (const id of ['ep1', 'ep2', 'ep3']) {
      expect(readFileSync(path.join(outDir, `${id}.mp4`)).equals(alone.get(id)!), id).toBe(true);
      expect(JSON.parse(readFileSync(path.join(outDir, `${id}.mp4.json`), 'utf8'))).toMatchObject({ episode: id });
    }
    // One "stitched" episode event per episode over the three machines; the others found it written.
    const episodeEvents = machines.flatMap((m) =>
      m
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; reason?: string; output?: string })
        .filter((e) => e.type === 'episode'),
    );
    expect(episodeEvents).toHaveLength(9);
    expect(episodeEvents.filter((e) => e.reason === undefined)).toHaveLength(3);
    for (const e of episodeEvents) expect(e.output!.startsWith(outDir)).toBe(true);
  });
});
