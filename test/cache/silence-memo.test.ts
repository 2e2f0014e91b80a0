/** The edge-silence memo: by content and detector settings, damage means measure again, never a wrong answer. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSilenceMemo } from '../../pipeline/cache/silence-memo.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import type { MediaFacts } from '../../pipeline/media/facts.ts';
import { measureEdgeSilence } from '../../pipeline/run/edge-silence.ts';
import { wavWithSilences } from '../helpers/silences.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'dl-silence-memo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SHA = 'a'.repeat(64);

describe('silence memo', () => {
  it('remembers by sha256 and method; another method or a damaged file is a miss', async () => {
    const memo = openSilenceMemo(dir);
    expect(await memo.get(SHA, 'm1')).toBeUndefined();
    await memo.put(SHA, 'm1', { leadingMs: 600, trailingMs: 450 });
    await memo.put(SHA, 'm2', { leadingMs: 1, trailingMs: 2 });
    expect(await openSilenceMemo(dir).get(SHA, 'm1')).toEqual({ leadingMs: 600, trailingMs: 450 });
    expect(await memo.get(SHA, 'm2')).toEqual({ leadingMs: 1, trailingMs: 2 });
    expect(await memo.get(SHA, 'm3')).toBeUndefined();
    writeFileSync(path.join(dir, 'memo', 'silence', `${SHA}.json`), '{"m1": {"leadingMs": "x"');
    expect(await memo.get(SHA, 'm1')).toBeUndefined();
  });

  it('a memo that cannot be written still gives the measured figures (read-only cache)', async () => {
    const ffmpeg = resolveFfmpegPaths();
    const file = path.join(dir, 'a.wav');
    await wavWithSilences(file, { leadMs: 300, speechMs: 500, trailMs: 200 }, ffmpeg);
    const media = new Map<string, MediaFacts>([[file, { kind: 'audio', sha256: SHA, localPath: file, durationMs: 1000, sampleRate: 16_000, channels: 1 }]]);
    const refusing = { get: async () => undefined, put: async () => Promise.reject(new Error('EROFS')) };
    await measureEdgeSilence(media, { memo: refusing, ffmpeg });
    expect(media.get(file)).toMatchObject({ edges: { leadingMs: 300, trailingMs: 200 } });
  });
});
