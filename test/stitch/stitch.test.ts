import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { concatList, ffmetadata } from '../../pipeline/stitch/args.ts';
import { stitchEpisode, type StitchScene } from '../../pipeline/stitch/episode.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';

const ffmpeg = resolveFfmpegPaths();
const dir = mkdtempSync(path.join(tmpdir(), 'dl-stitch-'));

/** Clips that disagree on everything: sizes, frame rates, audio shorter and longer than video, loudness. */
const CLIPS = [
  { name: 'a', size: '320x180', fps: 24, video: 4.5, audio: 4.2, freq: 300, volume: 0.9 },
  { name: 'b', size: '200x200', fps: 30, video: 6.0, audio: 6.4, freq: 500, volume: 0.05 },
  { name: 'c', size: '426x240', fps: 25, video: 4.0, audio: 4.0, freq: 700, volume: 0.4 },
];

async function makeClip(c: (typeof CLIPS)[number]): Promise<string> {
  const out = path.join(dir, `${c.name}.mp4`);
  await runFfmpeg(
    ['-f', 'lavfi', '-i', `testsrc=size=${c.size}:rate=${c.fps}:duration=${c.video}`, '-f', 'lavfi', '-i', `sine=frequency=${c.freq}:sample_rate=44100:duration=${c.audio}`,
      '-af', `volume=${c.volume}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', out],
    ffmpeg,
  );
  return out;
}

function loudnessOf(file: string): number {
  const r = require_('child_process').spawnSync(ffmpeg.ffmpeg, ['-hide_banner', '-nostats', '-i', file, '-filter_complex', 'ebur128', '-f', 'null', '-'], { encoding: 'utf8' });
  const summary = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]);
}
import { createRequire } from 'node:module';
const require_ = createRequire(import.meta.url);

let clips: string[];
beforeAll(async () => {
  clips = await Promise.all(CLIPS.map(makeClip));
});

const scenes = (): StitchScene[] => CLIPS.map((c, i) => ({ sceneId: c.name, title: `Scene ${c.name.toUpperCase()}`, clip: clips[i], identity: `id-${c.name}`, seed: i, expectedSeconds: c.video }));

describe('stitchEpisode', () => {
  it('sums durations within a frame per scene, keeps A/V in sync, hits the loudness target, writes chapters', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'dl-stitch-work-'));
    const output = path.join(dir, 'out', 'ep.mp4');
    const format = episodeFormat(['480p'], { loudness: -16 });
    const stats = { conformed: 0, reused: 0 };
    const result = await stitchEpisode({ episodeId: 'ep', title: 'Pilot', output, scenes: scenes(), format }, { workDir, ffmpeg, stats });
    expect(result.status).toBe('stitched');
    expect(stats).toEqual({ conformed: 3, reused: 0 });

    const probe = await ffprobe(output, ffmpeg);
    const v = probe.streams.find((s) => s.codec_type === 'video')!;
    const a = probe.streams.find((s) => s.codec_type === 'audio')!;
    expect([v.width, v.height, v.r_frame_rate]).toEqual([854, 480, '25/1']);
    expect(Number(a.sample_rate)).toBe(48_000);
    const total = CLIPS.reduce((s, c) => s + c.video, 0);
    expect(Math.abs(Number(v.duration) - total)).toBeLessThanOrEqual(0.04 * CLIPS.length);
    expect(Math.abs(Number(a.duration) - Number(v.duration))).toBeLessThan(0.05);

    const measured = loudnessOf(output);
    console.log(`episode loudness: ${measured} LUFS (target -16)`);
    expect(Math.abs(measured - -16)).toBeLessThanOrEqual(1);

    const chapters = JSON.parse(execFileSync(ffmpeg.ffprobe, ['-v', 'error', '-show_chapters', '-show_format', '-of', 'json', output], { encoding: 'utf8' }));
    expect(chapters.chapters.map((c: { tags: { title: string } }) => c.tags.title)).toEqual(['Scene A', 'Scene B', 'Scene C']);
    expect(chapters.chapters.map((c: { start_time: string; end_time: string }) => [Number(c.start_time), Number(c.end_time)])).toEqual([
      [0, 4.52],
      [4.52, 10.52],
      [10.52, 14.52],
    ]);
    expect(chapters.format.tags.title).toBe('Pilot');
  });

  it('broadcast target: −23 LUFS within 1 LU', async () => {
    const output = path.join(dir, 'out', 'broadcast.mp4');
    await stitchEpisode({ episodeId: 'b', output, scenes: scenes(), format: episodeFormat(['480p'], { loudness: -23 }) }, { workDir: mkdtempSync(path.join(tmpdir(), 'dl-st-')), ffmpeg });
    const measured = loudnessOf(output);
    console.log(`episode loudness: ${measured} LUFS (target -23)`);
    expect(Math.abs(measured - -23)).toBeLessThanOrEqual(1);
  });

  it('unchanged inputs leave the episode untouched; one changed scene conforms exactly one clip', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'dl-stitch-inc-'));
    const output = path.join(dir, 'out', 'inc.mp4');
    const format = episodeFormat(['480p']);
    await stitchEpisode({ episodeId: 'inc', output, scenes: scenes(), format }, { workDir, ffmpeg });
    const before = statSync(output).mtimeMs;
    const stats = { conformed: 0, reused: 0 };
    expect((await stitchEpisode({ episodeId: 'inc', output, scenes: scenes(), format }, { workDir, ffmpeg, stats })).status).toBe('up-to-date');
    expect(statSync(output).mtimeMs).toBe(before);
    expect(stats.conformed).toBe(0);

    const changed = scenes();
    changed[1] = { ...changed[1], clip: clips[2], identity: 'id-c-as-b' };
    expect((await stitchEpisode({ episodeId: 'inc', output, scenes: changed, format }, { workDir, ffmpeg, stats })).status).toBe('stitched');
    expect(stats).toEqual({ conformed: 1, reused: 2 });
  });

  it('a missing scene: refused unless allowed, then a slate of the expected length', async () => {
    const output = path.join(dir, 'out', 'partial.mp4');
    const partial = scenes();
    partial[1] = { ...partial[1], clip: undefined, missingReason: 'over budget' };
    const format = episodeFormat(['480p']);
    const workDir = mkdtempSync(path.join(tmpdir(), 'dl-stitch-part-'));
    const refused = await stitchEpisode({ episodeId: 'p', output, scenes: partial, format }, { workDir, ffmpeg });
    expect(refused).toEqual({ status: 'not-stitched', reason: 'b (over budget) missing; --allow-partial puts slates in their place' });
    const done = await stitchEpisode({ episodeId: 'p', output, scenes: partial, format, allowPartial: true }, { workDir, ffmpeg });
    expect(done.status).toBe('stitched');
    const probe = await ffprobe(output, ffmpeg);
    expect(Number(probe.format.duration)).toBeCloseTo(14.5, 1);
  });

  it('builds concat lists and metadata safely', () => {
    expect(concatList(["/tmp/it's here.mp4"])).toBe("ffconcat version 1.0\nfile '/tmp/it'\\''s here.mp4'\n");
    expect(ffmetadata('A=B; #1', [{ title: 'x', startMs: 0, endMs: 40 }])).toBe(';FFMETADATA1\ntitle=A\\=B\\; \\#1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=40\ntitle=x\n');
  });
  it('two stitches of one episode at once in one process (two library runs) do not share scratch files', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'dl-stitch-twice-'));
    const format = episodeFormat(['480p'], {});
    const outputs = [path.join(dir, 'twice', 'a', 'ep.mp4'), path.join(dir, 'twice', 'b', 'ep.mp4')];
    const results = await Promise.all(outputs.map((output) => stitchEpisode({ episodeId: 'ep', output, scenes: scenes().slice(0, 2), format }, { workDir, ffmpeg })));
    expect(results.map((r) => r.status)).toEqual(['stitched', 'stitched']);
    for (const o of outputs) expect(statSync(o).size).toBeGreaterThan(1000);
  });
});
