/**
 * One stitcher per episode, end to end on a real store (both backends) and a
 * real bucket (s3rver): two workers (two stores with owners on two hosts, one
 * clock), a fake stitch function that counts its calls and can be held at a
 * gate, and a heartbeat the test beats by hand.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { DuologueError } from '../../pipeline/errors.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';
import { openEpisodeOutputs, parseOutTarget, type EpisodeOutputs } from '../../pipeline/stitch/outputs/index.ts';
import { stitchKey } from '../../pipeline/stitch/stitch-key.ts';
import { stitchOnce, type StitchOnceDeps } from '../../pipeline/stitch/stitch-once.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, S3_SECRET, useS3 } from '../helpers/s3.ts';

const LEASE = 30_000;
const s3 = useS3();
const pg = usePostgres();

/** A fake stitcher: writes `content` to a temp file; `gate` (when set) holds it until opened or aborted. */
function stitcher(content: string, gate?: Promise<void>) {
  const calls: AbortSignal[] = [];
  const fn = async (signal: AbortSignal) => {
    calls.push(signal);
    if (gate) {
      await new Promise<void>((resolve, reject) => {
        gate.then(resolve);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'dl-once-')), 'episode.tmp.mp4');
    writeFileSync(file, content);
    return file;
  };
  return { fn, calls };
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A heartbeat beaten by hand: `beat()` resolves once the renewal is settled. */
function manualBeat() {
  let beat: (() => Promise<void>) | undefined;
  return {
    every: (fn: () => Promise<void>) => ((beat = fn), () => (beat = undefined)),
    beat: async () => beat?.(),
    beating: () => beat !== undefined,
  };
}

/** Until the fake stitcher has been called `n` times (its worker won the claim and is stitching). */
const stitching = (s: { calls: unknown[] }, n = 1) => vi.waitFor(() => expect(s.calls).toHaveLength(n), { timeout: 10_000, interval: 5 });

const backends: [string, () => Promise<(owner: string, now: () => number) => Promise<Store>>][] = [
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dl-once-db-'));
      return (owner, now) => openStore({ dir, owner, now, leaseMs: LEASE });
    },
  ],
  [
    'postgres',
    async () => {
      const url = await pg.fresh();
      return (owner, now) => openStore({ dir: mkdtempSync(path.join(tmpdir(), 'dl-once-pg-')), url, owner, now, leaseMs: LEASE });
    },
  ],
];

describe.each(backends)('stitch once (%s store, s3 outputs)', (backend, fresh) => {
  const closing: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of closing.splice(0)) await c.close();
  });

  /** Two workers on one store and one bucket prefix, with one clock. */
  async function twoWorkers(test: string) {
    const prefix = `${backend}-${test}`; // one bucket for the file: each test of each backend its own prefix
    const open = await fresh();
    const clock = { now: 1_000_000 };
    const worker = async (owner: string) => {
      const store = await open(owner, () => clock.now);
      const outputs = await openEpisodeOutputs(parseOutTarget(`s3://${BUCKET}/${prefix}`, s3.env()));
      closing.push(store, outputs);
      return { store, outputs };
    };
    const a = await worker('host-a:1:1:aaaa');
    const b = await worker('host-b:2:1:bbbb');
    const env = s3.env();
    const client = new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET } });
    closing.push({ close: async () => client.destroy() });
    const object = async (name: string) => {
      try {
        return await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${name}` }))).Body!.transformToString();
      } catch {
        return undefined;
      }
    };
    const remove = (name: string) => client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${name}` }));
    return { a, b, clock, object, remove };
  }

  const request = (outputs: EpisodeOutputs) => {
    const target = outputs.target('s01e01.mp4');
    const key = stitchKey({ episodeId: 's01e01', scenes: [{ identity: 'k1', title: 'Cold open' }, { identity: 'k2', title: 'Argument' }], format: episodeFormat(['480p']), target });
    return { key, episodeId: 's01e01', name: 's01e01.mp4' };
  };
  const deps = (w: { store: Store; outputs: EpisodeOutputs }, stitch: StitchOnceDeps['stitch'], every = manualBeat().every): StitchOnceDeps => ({
    stitches: w.store.stitches,
    outputs: w.outputs,
    stitch,
    renewEveryMs: LEASE / 3,
    every,
  });

  it('two workers at once: one stitches and publishes, the other sees it held, then done (who, when, where); nothing is stitched twice', async () => {
    const { a, b, clock, object } = await twoWorkers('race');
    const g = gate();
    const sa = stitcher('episode v1', g.opened);
    const sb = stitcher('episode v1', g.opened);
    const first = stitchOnce(request(a.outputs), deps(a, sa.fn));
    await stitching(sa); // a won and is stitching
    expect(await stitchOnce(request(b.outputs), deps(b, sb.fn))).toMatchObject({ kind: 'held', row: { owner: 'host-a:1:1:aaaa' } });
    g.open();
    expect(await first).toMatchObject({ kind: 'written', epoch: 1, target: `s3://${BUCKET}/${backend}-race/s01e01.mp4`, output: { bytes: 10 } });
    expect(await object('s01e01.mp4')).toBe('episode v1');
    clock.now += 60_000;
    expect(await stitchOnce(request(b.outputs), deps(b, sb.fn))).toMatchObject({
      kind: 'done',
      row: { written_by: 'host-a:1:1:aaaa', written_at: 1_000_000, target: `s3://${BUCKET}/${backend}-race/s01e01.mp4` },
    });
    expect(sb.calls).toHaveLength(0);
  });

  it('a worker paused past its lease publishes nothing: the one that took over writes the episode; the stale one reports lost', async () => {
    const { a, b, clock, object } = await twoWorkers('paused');
    const g = gate();
    const stale = stitcher('STALE bytes', g.opened);
    const aRun = stitchOnce(request(a.outputs), deps(a, stale.fn)); // its heartbeat never beats: paused
    await stitching(stale);
    clock.now += LEASE + 1_000;
    const fresh = stitcher('episode v1');
    expect(await stitchOnce(request(b.outputs), deps(b, fresh.fn))).toMatchObject({ kind: 'written', epoch: 2 });
    g.open(); // a wakes up with its stitch done
    expect(await aRun).toEqual({ kind: 'lost', epoch: 1 });
    expect(await object('s01e01.mp4')).toBe('episode v1');
    expect(await a.store.stitches.get(request(a.outputs).key)).toMatchObject({ status: 'written', written_by: 'host-b:2:1:bbbb', claim_epoch: 2 });
  });

  it("the heartbeat keeps a long stitch's claim; once it is refused the stitch is stopped", async () => {
    const { a, b, clock } = await twoWorkers('beat');
    const beatA = manualBeat();
    const g = gate();
    const slow = stitcher('episode v1', g.opened);
    const aRun = stitchOnce(request(a.outputs), deps(a, slow.fn, beatA.every));
    await stitching(slow);
    for (let i = 0; i < 3; i++) {
      clock.now += LEASE - 1_000;
      await beatA.beat(); // renewed each time: b keeps seeing it held
      expect((await stitchOnce(request(b.outputs), deps(b, stitcher('x').fn))).kind).toBe('held');
    }
    clock.now += LEASE + 1_000; // a missed its beats (partitioned)
    expect((await stitchOnce(request(b.outputs), deps(b, stitcher('episode v1').fn))).kind).toBe('written');
    await beatA.beat(); // refused now: a's stitch is stopped, though its gate never opens
    expect(await aRun).toEqual({ kind: 'lost', epoch: 1 });
    expect(slow.calls[0]!.aborted).toBe(true);
    expect(beatA.beating()).toBe(false);
  });

  it('a failed stitch frees the episode at once; an output recorded as written but gone is stitched again', async () => {
    const { a, b, object, remove } = await twoWorkers('again');
    const broken = async () => {
      throw new DuologueError('E_FFMPEG', 'stitch s01e01: ffmpeg exited with 1');
    };
    await expect(stitchOnce(request(a.outputs), deps(a, broken))).rejects.toMatchObject({ code: 'E_FFMPEG' });
    expect(await stitchOnce(request(b.outputs), deps(b, stitcher('episode v1').fn))).toMatchObject({ kind: 'written', epoch: 2 }); // no lease to wait out
    await remove('s01e01.mp4'); // someone cleaned the bucket
    const again = stitcher('episode v1');
    expect(await stitchOnce(request(a.outputs), deps(a, again.fn))).toMatchObject({ kind: 'written', epoch: 3 });
    expect(again.calls).toHaveLength(1);
    expect(await object('s01e01.mp4')).toBe('episode v1');
  });

  it('Ctrl-C mid-stitch: the stitch is stopped, nothing published, the claim given back (the next worker takes it at once)', async () => {
    const { a, b, object } = await twoWorkers('abort');
    const ctrlC = new AbortController();
    const g = gate();
    const partial = stitcher('partial', g.opened);
    const aRun = stitchOnce(request(a.outputs), { ...deps(a, partial.fn), signal: ctrlC.signal });
    await stitching(partial);
    ctrlC.abort(new DuologueError('E_ABORTED', 'interrupted'));
    await expect(aRun).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(await object('s01e01.mp4')).toBeUndefined();
    expect(await stitchOnce(request(b.outputs), deps(b, stitcher('episode v1').fn))).toMatchObject({ kind: 'written', epoch: 2 });
  });
});
