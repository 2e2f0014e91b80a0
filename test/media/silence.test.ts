/**
 * Edge silence measured by ffmpeg's silencedetect on generated WAVs with
 * known silences, scene figures worked out from it, and `trim: edges` tracks
 * cut to the expected lengths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_PRICE_TABLE as T } from '../../pipeline/cost/price-table.ts';
import { splitBilled } from '../../pipeline/cost/waste.ts';
import { ffprobe, resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import type { MediaFacts } from '../../pipeline/media/facts.ts';
import { detectEdgeSilence, parseEdgeSilence } from '../../pipeline/media/silence.ts';
import { sceneEdgeSilence } from '../../pipeline/media/speech-span.ts';
import { trackIdentity, type SceneTracks, type TrackSpec } from '../../pipeline/media/timeline.ts';
import { materializeTrack } from '../../pipeline/media/tracks.ts';
import { trimTracks } from '../../pipeline/media/trim.ts';
import { wavWithSilences, type Shape } from '../helpers/silences.ts';

const ffmpeg = resolveFfmpegPaths();
const dir = mkdtempSync(path.join(tmpdir(), 'duologue-silence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const media = new Map<string, MediaFacts>();
const files: Record<string, TrackSpec & { kind: 'file' }> = {};
const SHAPES: Record<'a' | 'b' | 'c', Shape> = {
  // 0.6 s room tone, 1.3 s speech, 0.45 s room tone = 2.35 s
  a: { leadMs: 600, speechMs: 1300, trailMs: 450 },
  // no lead, 2.2 s speech, 0.8 s tail = 3.0 s, at 48 kHz
  b: { leadMs: 0, speechMs: 2200, trailMs: 800, rate: 48_000, freq: 300 },
  // 0.25 s lead, 5.1 s speech, 0.7 s tail = 6.05 s
  c: { leadMs: 250, speechMs: 5100, trailMs: 700 },
};

beforeAll(async () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    const file = path.join(dir, `${name}.wav`);
    await wavWithSilences(file, shape, ffmpeg);
    const durationMs = shape.leadMs + shape.speechMs + shape.trailMs;
    const edges = await detectEdgeSilence(file, durationMs, ffmpeg);
    media.set(file, { kind: 'audio', sha256: `sha-${name}`, localPath: file, durationMs, sampleRate: shape.rate ?? 16_000, channels: 1, edges });
    files[name] = { kind: 'file', location: file, localPath: file, sha256: `sha-${name}`, durationMs };
  }
});

const edgesOf = (name: keyof typeof SHAPES) => (media.get(files[name].location) as { edges: unknown }).edges;
const probeMs = async (file: string) => Math.round(Number((await ffprobe(file, ffmpeg)).format.duration) * 1000);

describe('silencedetect on generated media', () => {
  it('finds each file’s leading and trailing silence to the millisecond', () => {
    expect(edgesOf('a')).toEqual({ leadingMs: 600, trailingMs: 450 });
    expect(edgesOf('b')).toEqual({ leadingMs: 0, trailingMs: 800 });
    expect(edgesOf('c')).toEqual({ leadingMs: 250, trailingMs: 700 });
  });

  it('parses logs of builds that do not close a silence at end of stream, and all-silent files', () => {
    const open = '[silencedetect @ 0x1] silence_start: 0\n[silencedetect @ 0x1] silence_end: 0.5 | silence_duration: 0.5\n[silencedetect @ 0x1] silence_start: 2.1\n';
    expect(parseEdgeSilence(open, 2500)).toEqual({ leadingMs: 500, trailingMs: 400 });
    expect(parseEdgeSilence('silence_start: 0\nsilence_end: 3 | silence_duration: 3\n', 3000)).toEqual({ leadingMs: 3000, trailingMs: 0 });
    expect(parseEdgeSilence('silence_start: 1.2\nsilence_end: 1.5 | silence_duration: 0.3\n', 3000)).toEqual({ leadingMs: 0, trailingMs: 0 });
  });
});

describe('a scene’s three waste figures', () => {
  it('meanwhile pair: silence before the first and after the last voice; padding to 5 s', () => {
    const tracks: SceneTracks = { left: files.a, right: files.b };
    const edges = sceneEdgeSilence('meanwhile', tracks, 3000, media);
    // a speaks 0.6–1.9 s, b 0–2.2 s: nobody is silent at the start; 3.0 − 2.2 = 0.8 s at the end
    expect(edges).toEqual({ leadingMs: 0, trailingMs: 800 });
    expect(splitBilled(3000, edges.leadingMs, edges.trailingMs, T)).toEqual({ billedMs: 5000, speechMs: 2200, leadingSilenceMs: 0, trailingSilenceMs: 800, paddingMs: 2000, roundingMs: 0 });
  });

  it('left_right pair: the left file’s lead and the right file’s tail; rounding up past 8 s', () => {
    const tracks: SceneTracks = { left: files.a, right: files.c };
    const edges = sceneEdgeSilence('left_right', tracks, 8400, media);
    expect(edges).toEqual({ leadingMs: 600, trailingMs: 700 });
    expect(splitBilled(8400, edges.leadingMs, edges.trailingMs, T)).toEqual({ billedMs: 9000, speechMs: 7100, leadingSilenceMs: 600, trailingSilenceMs: 700, paddingMs: 0, roundingMs: 600 });
  });

  it('built dialogue track: placements carry their files’ silences', () => {
    const built: TrackSpec = { kind: 'built', durationMs: 2350 + 300 + 6050, placements: [{ side: 'left', location: files.a.location, localPath: files.a.localPath, sha256: 'sha-a', startMs: 0, durationMs: 2350 }] };
    const other: TrackSpec = { kind: 'built', durationMs: 8700, placements: [{ side: 'right', location: files.c.location, localPath: files.c.localPath, sha256: 'sha-c', startMs: 2650, durationMs: 6050 }] };
    expect(sceneEdgeSilence('meanwhile', { left: built, right: other }, 8700, media)).toEqual({ leadingMs: 600, trailingMs: 700 });
  });
});

describe('trim: edges', () => {
  it('meanwhile: one window for both tracks, margin kept; the tracks made are that long', async () => {
    const tracks: SceneTracks = { left: files.a, right: { kind: 'silence', durationMs: 2350 } };
    const trimmed = trimTracks('meanwhile', tracks, media, 150);
    // speech 0.6–1.9 s → window 0.45–2.05 s = 1.6 s
    expect(trimmed.left).toMatchObject({ kind: 'trimmed', startMs: 450, durationMs: 1600 });
    expect(trimmed.right).toEqual({ kind: 'silence', durationMs: 1600 });
    const out = await materializeTrack(trimmed.left, dir, ffmpeg);
    expect(await probeMs(out)).toBe(1600);
    // The trimmed track, measured again, keeps exactly the margin at each end.
    expect(await detectEdgeSilence(out, 1600, ffmpeg)).toEqual({ leadingMs: 150, trailingMs: 150 });
  });

  it('left_right: each track on its own, at its own sample rate', async () => {
    const trimmed = trimTracks('left_right', { left: files.b, right: files.c }, media, 150);
    expect(trimmed.left).toMatchObject({ kind: 'trimmed', startMs: 0, durationMs: 2350, sampleRate: 48_000 });
    expect(trimmed.right).toMatchObject({ kind: 'trimmed', startMs: 100, durationMs: 5400 });
    expect(await probeMs(await materializeTrack(trimmed.left, dir, ffmpeg))).toBe(2350);
    expect(await probeMs(await materializeTrack(trimmed.right, dir, ffmpeg))).toBe(5400);
  });

  it('lines: the built tracks are cut by one window; the cut tracks are that long and keep the margin', async () => {
    const left: TrackSpec = { kind: 'built', durationMs: 8700, placements: [{ side: 'left', location: files.a.location, localPath: files.a.localPath, sha256: 'sha-a', startMs: 0, durationMs: 2350 }] };
    const right: TrackSpec = { kind: 'built', durationMs: 8700, placements: [{ side: 'right', location: files.c.location, localPath: files.c.localPath, sha256: 'sha-c', startMs: 2650, durationMs: 6050 }] };
    const trimmed = trimTracks('meanwhile', { left, right }, media, 150);
    // speech 0.6 s (a) to 2.65 + 5.35 = 8.0 s (c) → 0.45–8.15 s
    expect(trimmed.left).toMatchObject({ kind: 'trimmed', startMs: 450, durationMs: 7700, sampleRate: 16_000, channels: 1 });
    const [l, r] = await Promise.all([materializeTrack(trimmed.left, dir, ffmpeg), materializeTrack(trimmed.right, dir, ffmpeg)]);
    expect([await probeMs(l), await probeMs(r)]).toEqual([7700, 7700]);
    expect(await detectEdgeSilence(l, 7700, ffmpeg)).toEqual({ leadingMs: 150, trailingMs: 7700 - 150 - 1300 });
    expect(await detectEdgeSilence(r, 7700, ffmpeg)).toEqual({ leadingMs: 2650 + 250 - 450, trailingMs: 150 });
  });

  it('a track with no more silence than the margin is left as it was (same identity)', () => {
    const tight = trimTracks('meanwhile', { left: files.a, right: files.b }, media, 1000);
    expect(trackIdentity(tight.left)).toBe(trackIdentity(files.a));
  });

  it('same recipe, same bytes; the identity changes with the margin', async () => {
    const t1 = trimTracks('meanwhile', { left: files.c, right: { kind: 'silence', durationMs: 6050 } }, media, 150).left;
    const t2 = trimTracks('meanwhile', { left: files.c, right: { kind: 'silence', durationMs: 6050 } }, media, 200).left;
    expect(trackIdentity(t1)).not.toBe(trackIdentity(files.c));
    expect(trackIdentity(t1)).not.toBe(trackIdentity(t2));
    const { sha256File } = await import('../../pipeline/media/hash.ts');
    const first = await sha256File(await materializeTrack(t1, path.join(dir, 'one'), ffmpeg));
    const second = await sha256File(await materializeTrack(t1, path.join(dir, 'two'), ffmpeg));
    expect(second).toBe(first);
  });
});
