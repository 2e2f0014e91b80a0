import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { conformClip } from '../../pipeline/stitch/conform.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';

const ffmpeg = resolveFfmpegPaths();
const format = episodeFormat(['480p']);
const root = mkdtempSync(path.join(tmpdir(), 'dl-conform-'));
let clip: string;

beforeAll(async () => {
  clip = path.join(root, 'clip.mp4');
  await runFfmpeg(
    ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip],
    ffmpeg,
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under dir, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('conformClip metadata', () => {
  it('is written whole (temp + rename): no temp file is left, and the metadata parses', async () => {
    const dir = mkdtempSync(path.join(root, 'meta-'));
    const first = await conformClip(clip, 'id-whole', format, { dir, ffmpeg });
    expect(first.frames).toBe(25);
    const names = files(dir);
    expect(names.filter((n) => /tmp/.test(n))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.json'))).toHaveLength(1);
  });

  for (const [what, damage] of [
    ['empty (a crash or a full disk mid-write)', ''],
    ['cut short', '{"frames": 2'],
    ['valid JSON of the wrong shape', '{"identity": "id-x"}'],
    ['a frame count that is not a positive whole number', '{"frames": -3}'],
  ] as const) {
    it(`a damaged metadata file (${what}) means "not conformed yet": the clip is conformed again`, async () => {
      const dir = mkdtempSync(path.join(root, 'damaged-'));
      const stats = { conformed: 0, reused: 0 };
      await conformClip(clip, 'id-damaged', format, { dir, ffmpeg, stats });
      const meta = files(dir).find((n) => n.endsWith('.json'))!;
      writeFileSync(path.join(dir, meta), damage);

      const again = await conformClip(clip, 'id-damaged', format, { dir, ffmpeg, stats });
      expect(again.frames).toBe(25);
      expect(stats).toEqual({ conformed: 2, reused: 0 });
      // Repaired: the next use reuses it.
      expect((await conformClip(clip, 'id-damaged', format, { dir, ffmpeg, stats })).frames).toBe(25);
      expect(stats).toEqual({ conformed: 2, reused: 1 });
    });
  }
});
