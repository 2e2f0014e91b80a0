/**
 * Which files are usable, decided by what ffprobe finds in the bytes: only
 * still PNG / JPEG / WebP images, and audio of at least 100 ms.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffprobe, resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { interpretProbe } from '../../pipeline/media/facts.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/media');
const ffmpeg = resolveFfmpegPaths();
const dir = mkdtempSync(path.join(tmpdir(), 'duologue-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function asImage(file: string) {
  return interpretProbe('image', 'sha', await ffprobe(file, ffmpeg), file);
}
async function asAudio(file: string) {
  return interpretProbe('audio', 'sha', await ffprobe(file, ffmpeg), file);
}
/** A fixture under another name: the name must not matter. */
function renamed(fixture: string, name: string): string {
  const to = path.join(dir, name);
  copyFileSync(path.join(fixtures, fixture), to);
  return to;
}

describe('images', () => {
  it.each(['two-people.png', 'two-people.jpg', 'two-people.webp'])('%s is a usable still image', async (name) => {
    expect(await asImage(path.join(fixtures, name))).toMatchObject({ ok: true, facts: { kind: 'image', width: 128, height: 96 } });
  });

  it('is judged by its bytes, not its extension', async () => {
    expect(await asImage(renamed('two-people.jpg', 'photo.png'))).toMatchObject({ ok: true });
    expect(await asImage(renamed('two-people.webp', 'no-extension'))).toMatchObject({ ok: true });
    expect(await asImage(renamed('still.gif', 'disguised.png'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^is a GIF/) });
  });

  it.each([
    ['still.gif', /^is a GIF \(format gif, streams video:gif\); use a PNG, JPEG or WebP still image$/],
    ['animated.gif', /^is a GIF/],
    ['animated.webp', /^is an animated WebP/],
    ['cover-art.mp3', /^is not an image but audio with cover art \(format mp3, streams audio:mp3, video:mjpeg\)/],
    ['tone-1s.wav', /^is not an image but audio \(format wav/],
  ])('%s is refused', async (name, reason) => {
    expect(await asImage(path.join(fixtures, name))).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });
});

describe('audio', () => {
  it('under 100 ms is refused (it failed or hung the renderer)', async () => {
    expect(await asAudio(path.join(fixtures, 'tone-50ms.wav'))).toEqual({ ok: false, reason: 'is only 50 ms long; at least 100 ms of speech is needed' });
    expect(await asAudio(path.join(fixtures, 'tone-100ms.wav'))).toMatchObject({ ok: true, facts: { durationMs: 100 } });
  });

  it('an mp3 with cover art is still fine as audio', async () => {
    expect(await asAudio(path.join(fixtures, 'cover-art.mp3'))).toMatchObject({ ok: true, facts: { kind: 'audio' } });
  });
});
