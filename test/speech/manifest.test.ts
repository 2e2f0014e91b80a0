import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifests } from '../../pipeline/manifest/load.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'duologue-say-'));

async function load(text: string) {
  const file = path.join(tmp(), 'm.yaml');
  writeFileSync(file, text);
  return readManifests([file]);
}

describe('lines written as text', () => {
  it('voices a say line from the cast, episode cast over top level, line overrides over both', async () => {
    const { series, diagnostics } = await load(`version: 1
defaults: { image: a.png }
cast:
  left: { voice: Wise_Woman, speed: 1.2, emotion: happy }
  right: { voice: Deep_Voice_Man, speech_model: speech-02-turbo }
episodes:
  - id: e1
    cast: { left: { pitch: 2 } }
    scenes:
      - id: s1
        lines:
          - left: { say: "  Hello there.  " }
          - right: { say: "Hi.", emotion: sad, voice: Calm_Woman }
          - left: b.wav
      - { id: s2, left: { say: "Alone." } }
`);
    expect(diagnostics).toEqual([]);
    const [s1, s2] = series.episodes[0].scenes;
    if (s1.audio.form !== 'lines') throw new Error('lines expected');
    const [a, b, c] = s1.audio.lines;
    expect(a.media).toMatchObject({ kind: 'speech', speech: { text: 'Hello there.', voice: 'Wise_Woman', speed: 1.2, pitch: 2, emotion: 'happy', model: 'speech-02-hd', volume: 1 } });
    expect(b.media).toMatchObject({ kind: 'speech', speech: { text: 'Hi.', voice: 'Calm_Woman', emotion: 'sad', model: 'speech-02-turbo', speed: 1 } });
    expect(c.media.kind).toBe('file');
    expect(s2.audio).toMatchObject({ form: 'pair', left: { kind: 'speech', speech: { text: 'Alone.' } } });
    // The same words in the same voice are one location (one speech), whatever the indentation.
    expect(a.media.location).toMatch(/^speech:[0-9a-f]{64}$/);
  });

  it('reports a line with no voice and blank text, positioned, all at once', async () => {
    const { diagnostics } = await load(`version: 1
defaults: { image: a.png }
cast: { left: { voice: Wise_Woman } }
episodes:
  - id: e1
    scenes:
      - id: s1
        lines:
          - right: { say: "Who am I?" }
          - left: { say: "   " }
`);
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', line: 9, col: 20, where: 'e1/s1', message: expect.stringContaining('no voice for the right side') }),
      expect.objectContaining({ severity: 'error', line: 10, col: 19, where: 'e1/s1', message: expect.stringContaining('says nothing') }),
    ]);
  });

  it('checks text length, voice ids, emotions and unknown keys before anything else runs', async () => {
    const long = 'a'.repeat(5001);
    const { diagnostics } = await load(`version: 1
defaults: { image: a.png }
cast: { left: { voice: "no spaces allowed", speed: 3 } }
episodes:
  - id: e1
    scenes:
      - id: s1
        lines:
          - left: { say: "${long}" }
          - left: { say: "Hi", emotion: bored }
          - left: { say: "Hi", tone: warm }
`);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.line, d.message])).toEqual([
      [9, "say must be at most 5000 characters, got 5001"],
      [10, expect.stringContaining("emotion must be one of")],
      [11, expect.stringContaining("unknown key \"tone\"")],
      [3, expect.stringContaining("is not a voice id")],
      [3, "speed must be at most 2, got 3"],
    ]);
    expect(errors.every((d) => d.file.endsWith('m.yaml'))).toBe(true);
  });
});
