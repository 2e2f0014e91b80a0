import { copyFileSync, mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { readManifests } from '../../pipeline/manifest/load.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { inspectMedia } from '../../pipeline/run/inspect.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/media');

function workspace() {
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-inspect-'));
  for (const f of ['tone-1s.wav', 'tone-2500ms.wav', 'two-people.png']) copyFileSync(path.join(fixtures, f), path.join(dir, f));
  const manifest = path.join(dir, 'm.yaml');
  writeFileSync(
    manifest,
    `version: 1
defaults: { image: two-people.png }
episodes:
  - id: e1
    scenes:
      - { id: a, left: tone-1s.wav, right: tone-2500ms.wav }
      - { id: b, left: tone-1s.wav }
`,
  );
  return { dir, manifest };
}

describe('inspectMedia', () => {
  it('hashes and probes each distinct file once, then reads nothing on a warm memo', async () => {
    const { dir, manifest } = workspace();
    const store = await openStore({ dir: path.join(dir, 'cache') });
    const { series } = await readManifests([manifest]);
    const cold = { hashed: 0, probed: 0, memoHits: 0 };
    const first = await inspectMedia(series, { memo: store.files, ffmpeg: resolveFfmpegPaths(), stats: cold });
    expect(first.diagnostics).toEqual([]);
    expect(cold).toEqual({ hashed: 3, probed: 3, memoHits: 0 });
    const tone = first.media.get(path.join(dir, 'tone-2500ms.wav'));
    expect(tone).toMatchObject({ kind: 'audio', durationMs: 2_500, sampleRate: 16_000, channels: 1 });
    expect(first.media.get(path.join(dir, 'two-people.png'))).toMatchObject({ kind: 'image', width: 128, height: 96 });

    const warm = { hashed: 0, probed: 0, memoHits: 0 };
    const second = await inspectMedia(series, { memo: store.files, ffmpeg: resolveFfmpegPaths(), stats: warm });
    expect(warm).toEqual({ hashed: 0, probed: 0, memoHits: 3 });
    expect(second.media).toEqual(first.media);

    // One changed byte: that file (only) is read again, and its hash changes.
    appendFileSync(path.join(dir, 'tone-1s.wav'), Buffer.from([0]));
    const after = { hashed: 0, probed: 0, memoHits: 0 };
    const third = await inspectMedia(series, { memo: store.files, ffmpeg: resolveFfmpegPaths(), stats: after });
    expect(after).toEqual({ hashed: 1, probed: 1, memoHits: 2 });
    expect(third.media.get(path.join(dir, 'tone-1s.wav'))!.sha256).not.toBe(first.media.get(path.join(dir, 'tone-1s.wav'))!.sha256);
    await store.close();
  });

  it('reports an unusable file once, naming the scene and how many others use it', async () => {
    const { dir, manifest } = workspace();
    writeFileSync(path.join(dir, 'tone-1s.wav'), 'not audio');
    const { series } = await readManifests([manifest]);
    const result = await inspectMedia(series, { memo: (await openStore({ dir: ':memory:' })).files, ffmpeg: resolveFfmpegPaths() });
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ code: 'E_INPUT', line: 6, where: 'e1/a' });
    expect(result.diagnostics[0].message).toBe('audio "tone-1s.wav" cannot be decoded (ffprobe found no readable audio) (also used by 1 other scene)');
  });
});
