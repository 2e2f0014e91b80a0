/**
 * The finisher's shared writer on a real store (SQLite, two owners on other
 * hosts) and a real folder: a fake stitch (gated, counting its calls, writing
 * the same bytes stitchEpisode would put in its temp output and sidecar).
 * The worker that wins an episode fetches its clips, conforms them on the
 * pool, stitches and publishes;
 * the other waits while it is held (through its sleep, not a pool slot) and
 * then reports it written, without fetching or stitching anything.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import type { StitchInput } from '../../pipeline/stitch/episode.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';
import { openEpisodeOutputs } from '../../pipeline/stitch/outputs/index.ts';
import { createLocalPool } from '../../pipeline/stitch/pool.ts';
import { sharedEpisodeWriter } from '../../pipeline/stitch/shared-writer.ts';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close();
});

function input(outDir: string, clips: (string | undefined)[] = ['/clips/k1.mp4', '/clips/k2.mp4']): StitchInput {
  return {
    episodeId: 'ep1',
    title: 'Pilot',
    output: path.join(outDir, 'ep1.mp4'),
    format: episodeFormat(['480p']),
    scenes: clips.map((clip, i) => ({ sceneId: `s${i}`, title: `Scene ${i}`, clip, identity: `k${i + 1}`, seed: i, expectedSeconds: 1, missingReason: clip ? undefined : 'failed' })),
  };
}

/** A stitch that writes its temp output and sidecar (as stitchEpisode does) once `gate` opens. */
function fakeStitch(gate: Promise<void> = Promise.resolve()) {
  const calls: StitchInput[] = [];
  const fn = async (i: StitchInput) => {
    calls.push(i);
    await gate;
    await mkdir(path.dirname(i.output), { recursive: true });
    writeFileSync(i.output, 'episode bytes');
    writeFileSync(`${i.output}.json`, JSON.stringify({ episode: i.episodeId }));
    return { status: 'stitched' as const, output: i.output, durationSeconds: 2 };
  };
  return { fn, calls };
}

async function worker(dir: string, owner: string, outDir: string, stitch: ReturnType<typeof fakeStitch>, sleep = vi.fn(async () => {})) {
  const store: Store = await openStore({ dir, owner, leaseMs: 30_000 });
  const outputs = await openEpisodeOutputs({ kind: 'dir', dir: outDir });
  closing.push(store, outputs);
  const fetched: string[] = [];
  const conformed: string[] = [];
  const write = sharedEpisodeWriter({
    stitches: store.stitches,
    outputs,
    outKind: 'dir',
    pool: createLocalPool({ size: 1 }),
    fetchClip: async (key) => (fetched.push(key), `/fetched/${key}.mp4`),
    leaseMs: 30_000,
    pollMs: 250,
    sleep,
    stitch: stitch.fn,
    conform: async (clip) => {
      conformed.push(clip);
      return { video: `${clip}.v`, audio: `${clip}.a`, frames: 25 };
    },
  });
  const workDir = mkdtempSync(path.join(tmpdir(), 'dl-writer-work-'));
  return { store, write: (i: StitchInput) => write(i, { workDir, ffmpeg: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' } }), fetched, conformed, sleep, workDir };
}

describe('shared episode writer', () => {
  it('one worker stitches (its clips fetched first), the other waits while it is held and then reports it written; output and sidecar in the folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-writer-db-'));
    const outDir = mkdtempSync(path.join(tmpdir(), 'dl-writer-out-'));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const stitchA = fakeStitch(gate);
    const stitchB = fakeStitch();
    const a = await worker(dir, 'host-a:1:1:aaaa', outDir, stitchA);
    // B's sleep is where it waits for A: A finishes meanwhile.
    let aDone: Promise<unknown> | undefined;
    const b = await worker(dir, 'host-b:2:1:bbbb', outDir, stitchB, vi.fn(async () => {
      open();
      await aDone;
    }));
    aDone = a.write(input(outDir));
    await vi.waitFor(() => expect(stitchA.calls).toHaveLength(1), { timeout: 5_000, interval: 5 });
    const fromB = await b.write(input(outDir));
    const fromA = await aDone;

    expect(fromA).toEqual({ status: 'stitched', output: path.join(outDir, 'ep1.mp4'), durationSeconds: 0 });
    expect(fromB).toMatchObject({ status: 'up-to-date', output: path.join(outDir, 'ep1.mp4'), note: expect.stringMatching(/^up to date: written on host-a at /) });
    expect(b.sleep).toHaveBeenCalledTimes(1);
    expect(b.sleep).toHaveBeenCalledWith(250, expect.any(AbortSignal));
    // A fetched the clips and stitched from the fetched copies; B neither fetched nor stitched.
    expect(a.fetched).toEqual(['k1', 'k2']);
    expect(a.conformed.sort()).toEqual(['/fetched/k1.mp4', '/fetched/k2.mp4']);
    expect(b.conformed).toEqual([]);
    expect(stitchA.calls[0]!.scenes.map((s) => s.clip)).toEqual(['/fetched/k1.mp4', '/fetched/k2.mp4']);
    expect(b.fetched).toEqual([]);
    expect(stitchB.calls).toHaveLength(0);
    expect(readdirSync(outDir).sort()).toEqual(['ep1.mp4', 'ep1.mp4.json']);
    expect(readFileSync(path.join(outDir, 'ep1.mp4'), 'utf8')).toBe('episode bytes');
    // The work dir keeps nothing: the temp episode was moved, its sidecar copied and removed.
    expect(readdirSync(path.join(a.workDir, 'episodes'))).toEqual([]);
    // Asked again later (another run, nothing changed): up to date, nothing stitched.
    expect(await a.write(input(outDir))).toMatchObject({ status: 'up-to-date' });
    expect(stitchA.calls).toHaveLength(1);
  });

  it('a scene without a clip and no --allow-partial: not stitched, and no claim taken', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-writer-db-'));
    const outDir = mkdtempSync(path.join(tmpdir(), 'dl-writer-out-'));
    const stitch = fakeStitch();
    const a = await worker(dir, 'host-a:1:1:aaaa', outDir, stitch);
    const r = await a.write(input(outDir, ['/clips/k1.mp4', undefined]));
    expect(r).toEqual({ status: 'not-stitched', reason: 's1 (failed) missing; --allow-partial puts slates in their place' });
    expect(stitch.calls).toHaveLength(0);
    expect(a.fetched).toEqual([]);
    expect(readdirSync(outDir)).toEqual([]);
  });
});
