/**
 * One stitcher per episode, across machines: three `duologue render`
 * processes (hosts of their own, cache dirs of their own) on one PostgreSQL
 * and one bucket, same `--run`. With `--out s3://…` every episode is stitched
 * by exactly one of them (one stitch row at epoch 1, one stitched event, one
 * object), its bytes those one machine alone writes, and only that worker
 * downloads the clips the others rendered for it. A worker killed -9 while it
 * holds an episode's claim: another worker writes it after the lease.
 * (Workers sharing a local folder: stitch-once-folder.test.ts.)
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { aloneEpisodes, startMachine, type Machine } from '../helpers/machine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, S3_SECRET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const pg = usePostgres();
const s3 = useS3();
const scene = (id: string, seed: number) => `      - { id: ${id}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${seed} }\n`;
// Three episodes of two scenes: six cache keys.
const SHOW = `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n${[1, 2, 3].map((e) => `  - id: ep${e}\n    scenes:\n${scene('a', e * 10 + 1)}${scene('b', e * 10 + 2)}`).join('')}`;
const HOSTS = ['machine-a', 'machine-b', 'machine-c'];

const { fakes, children } = useProcesses();

async function fake(): Promise<FakeWavespeed> {
  const f = await startFake({ msPerVideoSecond: 100, maxConcurrent: 6 });
  fakes.push(f);
  return f;
}

/**
 * `leaseSeconds`: 1 where a killed worker's claims must lapse quickly; longer where nobody dies, so that a
 * loaded machine pausing a worker past its lease (a takeover: correct, but not "stitched once") cannot happen.
 */
async function sharedEnv(f: FakeWavespeed, prefix: string, leaseSeconds = 1) {
  const store = await pg.fresh();
  return {
    store,
    env: { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: String(leaseSeconds), DUOLOGUE_STORE: store, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/${prefix}` },
  };
}

async function query<T>(url: string, text: string): Promise<T[]> {
  const server = connect(url);
  try {
    return await server.sql.rows<T>(text);
  } finally {
    await server.pool.end();
  }
}

interface StitchRowSeen {
  episode_id: string;
  status: string;
  claim_epoch: number;
  written_by: string;
  target: string;
  output_bytes: number;
}
const stitchRows = (store: string) =>
  query<StitchRowSeen>(store, 'SELECT episode_id, status, claim_epoch, written_by, target, output_bytes FROM episode_stitches ORDER BY episode_id');

function client(): S3Client {
  const env = s3.env();
  return new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } });
}

async function objectsUnder(prefix: string): Promise<Map<string, Buffer>> {
  const c = client();
  try {
    const listed = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    const out = new Map<string, Buffer>();
    for (const o of listed.Contents ?? []) {
      const body = (await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body!;
      out.set(o.Key!.slice(prefix.length), Buffer.from(await body.transformToByteArray()));
    }
    return out;
  } finally {
    c.destroy();
  }
}

/** The same manifest on one machine alone (SQLite, a folder): the reference bytes, computed once. */
let reference: Promise<Map<string, Buffer>> | undefined;
function singleMachine(manifest: string): Promise<Map<string, Buffer>> {
  reference ??= fake().then((f) => aloneEpisodes(manifest, f.apiUrl));
  return reference;
}

type Ev = { type: string; episode?: string; key?: string; output?: string | null; reason?: string };
const eventsOf = (m: Machine): Ev[] =>
  m
    .stdout()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Ev);

/** Cache keys whose clip is in a machine's own cache dir. */
function clipsHere(m: Machine): Set<string> {
  const dir = path.join(m.dir, 'cache', 'clips');
  if (!existsSync(dir)) return new Set();
  return new Set(readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /^[0-9a-f]{64}\.mp4$/.test(path.basename(f))).map((f) => path.basename(f, '.mp4')));
}

describe('one stitcher per episode', () => {
  it('three machines, --out s3://: each episode stitched once, by one worker, the bytes of one machine alone; only it downloads the others\' clips', { timeout: 150_000 }, async () => {
    const { manifest } = tinyProject(SHOW);
    const expected = await singleMachine(manifest);
    const f = await fake();
    const { store, env } = await sharedEnv(f, 'clips', 20);
    const out = `s3://${BUCKET}/episodes/night`;
    const machines = HOSTS.map((h) => startMachine(h, manifest, env, ['--run', 'night', '--out', out], children));
    const codes = await Promise.all(machines.map((m) => m.exit));
    for (const [i, m] of machines.entries()) expect(codes[i], m.stderr()).toBe(0);

    // The store: one row per episode, written under the first claim (never taken over), to the bucket.
    const rows = await stitchRows(store);
    expect(rows.map((r) => [r.episode_id, r.status, r.claim_epoch, r.target])).toEqual(
      ['ep1', 'ep2', 'ep3'].map((id) => [id, 'written', 1, `s3://${BUCKET}/episodes/night/${id}.mp4`]),
    );
    // The bucket: the three episodes, each the reference's bytes.
    const published = await objectsUnder('episodes/night/');
    expect([...published.keys()].sort()).toEqual(['ep1.mp4', 'ep2.mp4', 'ep3.mp4']);
    for (const [id, bytes] of expected) expect(published.get(`${id}.mp4`)!.equals(bytes), id).toBe(true);
    for (const r of rows) expect(r.output_bytes).toBe(expected.get(r.episode_id)!.length);

    // The events: per episode, exactly one machine stitched it (no reason); the others say who wrote it.
    const stitchedBy = new Map<string, Machine[]>();
    for (const m of machines) {
      const summary = m.summary();
      for (const e of summary.episodes) expect([e.id, e.status, e.output]).toEqual([e.id, 'complete', `${out}/${e.id}.mp4`]);
      for (const e of eventsOf(m).filter((x) => x.type === 'episode')) {
        if (e.reason === undefined) stitchedBy.set(e.episode!, [...(stitchedBy.get(e.episode!) ?? []), m]);
        else expect(e.reason).toMatch(/^up to date: written on machine-[abc] at /);
      }
    }
    expect([...stitchedBy.keys()].sort()).toEqual(['ep1', 'ep2', 'ep3']);
    for (const [id, by] of stitchedBy) {
      expect(by, id).toHaveLength(1);
      expect(rows.find((r) => r.episode_id === id)!.written_by.split(':')[0]).toBe(by[0]!.host);
    }

    // Downloads: a machine's cache holds the clips it rendered, and the clips of the episodes it stitched; no others.
    let held = 0;
    for (const m of machines) {
      const rendered = eventsOf(m).filter((e) => e.type === 'done').map((e) => e.key!);
      const stitched = eventsOf(m).filter((e) => e.type === 'cached' && [...stitchedBy].some(([id, by]) => by[0] === m && id === e.episode)).map((e) => e.key!);
      expect([...clipsHere(m)].sort(), m.host).toEqual([...new Set([...rendered, ...stitched])].sort());
      held += clipsHere(m).size;
    }
    expect(held).toBeLessThan(18); // every machine downloading every clip would hold 3 × 6
    // No secret in what the machines printed.
    for (const m of machines) expect(m.stderr() + m.stdout()).not.toContain(S3_SECRET);
  });

  it('a worker killed -9 while it holds an episode\'s stitch claim: another worker writes the episode after its lease', { timeout: 150_000 }, async () => {
    const { manifest } = tinyProject(`version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\nepisodes:\n  - id: ep1\n    scenes:\n${scene('a', 41)}${scene('b', 42)}`);
    const f = await fake();
    const { store, env } = await sharedEnv(f, 'kill-stitch');
    // The victim's ffmpeg never finishes the loudness measure (the stitch's first encode step) while it lives.
    const realFfmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    const wrapper = path.join(mkdtempSync(path.join(tmpdir(), 'dl-ffmpeg-')), 'ffmpeg');
    writeFileSync(wrapper, `#!/bin/sh\ncase "$*" in *ebur128=framelog*) while kill -0 $PPID 2>/dev/null; do sleep 0.1; done; exit 1;; esac\nexec "${realFfmpeg}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    const out = `s3://${BUCKET}/episodes/kill`;
    const victim = startMachine('machine-a', manifest, { ...env, FFMPEG_PATH: wrapper }, ['--run', 'night', '--out', out], children);
    // Polled from another connection (the table appears with the victim's first migration).
    for (;;) {
      const rows = await query<{ key: string }>(store, 'SELECT key FROM episode_stitches').catch(() => []);
      if (rows.length === 1) break;
      if (victim.child.exitCode !== null) throw new Error(`the victim ended first: ${victim.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [held] = await query<{ status: string; claim_epoch: number }>(store, 'SELECT status, claim_epoch FROM episode_stitches');
    expect(held).toEqual({ status: 'open', claim_epoch: 1 });
    victim.child.kill('SIGKILL');
    await victim.exit;

    const rescuer = startMachine('machine-b', manifest, env, ['--run', 'night', '--out', out], children);
    expect(await rescuer.exit, rescuer.stderr()).toBe(0);
    const [row] = await stitchRows(store);
    expect([row.status, row.claim_epoch, row.written_by.split(':')[0]]).toEqual(['written', 2, 'machine-b']);
    const published = await objectsUnder('episodes/kill/');
    expect([...published.keys()]).toEqual(['ep1.mp4']);
    expect(published.get('ep1.mp4')!.length).toBe(row.output_bytes);
    // The rescuer collected what the victim rendered: nothing paid twice.
    const seeds = f.submissions.map((s) => s.body.seed as number);
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(rescuer.summary().episodes).toEqual([{ id: 'ep1', status: 'complete', output: `${out}/ep1.mp4` }]);
  });
});
