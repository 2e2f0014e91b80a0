import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffprobe, resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { slateLines } from '../../pipeline/stitch/args.ts';
import { stitchEpisode } from '../../pipeline/stitch/episode.ts';
import { findFont } from '../../pipeline/stitch/font.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';

const ffmpeg = resolveFfmpegPaths();
const root = mkdtempSync(path.join(tmpdir(), 'dl-slate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const font = findFont();
const why = font ? '' : ' (SKIPPED: no font on this machine, so slates carry no text)';

/** What APIs say, with every character ffmpeg's filter syntax or drawtext's expansion treats specially. */
const NASTY = `prediction p-1 failed: it's "not a face": 100% sure %{pts} [x], a\\b; c'd`;

describe('slates for missing scenes', () => {
  it.skipIf(!font)(`an error text with quotes, colons, %, brackets and backslashes is drawn, in a work dir with such a name too${why}`, async () => {
    const clip = path.join(root, 'clip.mp4');
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip], ffmpeg);
    const workDir = path.join(root, "work it's: [a], b; c\\d");
    mkdirSync(workDir);
    const output = path.join(root, 'out', 'ep.mp4');
    const result = await stitchEpisode(
      {
        episodeId: 'ep',
        output,
        format: episodeFormat(['480p']),
        allowPartial: true,
        scenes: [
          { sceneId: 'ok', title: 'ok', clip, identity: 'id-ok', seed: 1, expectedSeconds: 1 },
          { sceneId: 'bad', title: 'bad', identity: 'id-bad', seed: 2, expectedSeconds: 1, missingReason: NASTY },
        ],
      },
      { workDir, ffmpeg, fontFile: font },
    );
    expect(result.status).toBe('stitched');
    expect(Number((await ffprobe(output, ffmpeg)).format.duration)).toBeCloseTo(2, 1);
  });

  it('slate text is wrapped into short lines, kept verbatim, and cut when very long', () => {
    expect(slateLines('bad', NASTY)).toEqual(['bad:', 'prediction p-1 failed: it\'s "not a face": 100%', "sure %{pts} [x], a\\b; c'd"]);
    const long = slateLines('s', 'word '.repeat(200));
    expect(long.length).toBeLessThanOrEqual(7);
    expect(long.at(-1)).toMatch(/…$/);
  });
});
