/**
 * The check a delivered clip passes before it is trusted: a whole mp4 with a
 * video and an audio track, lasting what the plan said (±0.5 s). A clip that
 * fails for what it is (wrong length, a track missing) is unusable — only a
 * new render helps; one that is not a readable mp4 at all says nothing about
 * the render, so it is fetched again (`unavailable`).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OutputError } from '../../pipeline/errors.ts';
import { resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { verifyClip } from '../../pipeline/media/verify-clip.ts';

const ffmpeg = resolveFfmpegPaths();
const dir = mkdtempSync(path.join(tmpdir(), 'dl-verify-clip-'));
const file = (name: string) => path.join(dir, name);
const videoIn = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=2'];
const audioIn = ['-f', 'lavfi', '-i', 'sine=duration=2:sample_rate=16000'];
const videoOut = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const audioOut = ['-c:a', 'aac'];

beforeAll(async () => {
  await Promise.all([
    runFfmpeg([...videoIn, ...audioIn, ...videoOut, ...audioOut, '-shortest', file('whole.mp4')], ffmpeg),
    runFfmpeg([...videoIn, ...videoOut, file('no-audio.mp4')], ffmpeg),
    runFfmpeg([...audioIn, ...audioOut, file('no-video.mp4')], ffmpeg),
  ]);
  const whole = readFileSync(file('whole.mp4'));
  writeFileSync(file('cut.mp4'), whole.subarray(0, whole.length >> 1));
});

/** The OutputError a check throws (fails the test if it passes). */
async function refusal(name: string, expectedSeconds: number): Promise<OutputError> {
  const error = await verifyClip(file(name), expectedSeconds, 'ep/s').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${name} passed the check`).toBeInstanceOf(OutputError);
  return error as OutputError;
}

describe('verifyClip', () => {
  it('a whole clip within ±0.5 s of the plan passes, returning its length', async () => {
    for (const expected of [2, 1.6, 2.4]) expect(await verifyClip(file('whole.mp4'), expected, 'ep/s')).toBeCloseTo(2, 1);
  });

  it.each([
    ['longer', 1.4, /lasts 2\.\d\d s, expected 1\.40 s \(±0\.5 s\)/],
    ['shorter', 2.6, /lasts 2\.\d\d s, expected 2\.60 s \(±0\.5 s\)/],
  ])('a clip %s than planned by more than 0.5 s is refused as unusable, with the length it has (what it was billed by)', async (_what, expected, message) => {
    const e = await refusal('whole.mp4', expected);
    expect(e.message).toMatch(message);
    expect(e.unavailable).toBe(false);
    expect(e.deliveredSeconds).toBeCloseTo(2, 1);
  });

  it.each([
    ['no-audio.mp4', /lacks an audio stream/],
    ['no-video.mp4', /lacks a video stream/],
  ])('%s is refused as unusable (a new render is needed), whatever its length', async (name, message) => {
    const e = await refusal(name, 2);
    expect(e.message).toMatch(message);
    expect(e.unavailable).toBe(false);
  });

  it('a cut-off download is not a verdict on the render: refused as unavailable (fetched again, not paid again)', async () => {
    const e = await refusal('cut.mp4', 2);
    expect(e.message).toMatch(/not a readable mp4/);
    expect(e.unavailable).toBe(true);
  });
});
