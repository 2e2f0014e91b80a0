import { mkdtempSync, writeFileSync, openSync, ftruncateSync, closeSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifests } from '../../pipeline/manifest/load.ts';
import { deriveSeed } from '../../pipeline/manifest/seed.ts';
import { runCli } from '../helpers/cli.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/media');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'duologue-load-'));

describe('manifest loading', () => {
  it('merges defaults top < episode < scene and resolves paths against the manifest', async () => {
    const dir = tmp();
    const file = path.join(dir, 'm.yaml');
    writeFileSync(
      file,
      `version: 1
defaults: { resolution: 480p, prompt: top, image: img/a.png, order: left_right }
episodes:
  - id: e1
    defaults: { resolution: 720p, prompt: episode }
    scenes:
      - { id: s1, left: a.wav, right: b.wav, prompt: scene }
      - { id: s2, left: a.wav, right: b.wav }
      - { id: s3, lines: [{ left: a.wav }, { right: b.wav, pause: 0.4 }], order: left_right }
`,
    );
    const { series, diagnostics } = await readManifests([file]);
    const [s1, s2, s3] = series.episodes[0].scenes;
    expect(s1).toMatchObject({ resolution: '720p', prompt: 'scene', order: 'left_right' });
    expect(s2).toMatchObject({ resolution: '720p', prompt: 'episode' });
    expect(s1.image.location).toBe(path.join(dir, 'img/a.png'));
    expect(s3.order).toBe('meanwhile');
    expect(s3.audio).toMatchObject({ form: 'lines', lines: [{ side: 'left', pauseMs: 0 }, { side: 'right', pauseMs: 400 }] });
    expect(diagnostics).toEqual([expect.objectContaining({ severity: 'warning', line: 9, message: expect.stringContaining('ignored') })]);
  });

  it('derives stable seeds from ids when none is set', async () => {
    expect(deriveSeed('s01e01', 'intro')).toBe(deriveSeed('s01e01', 'intro'));
    expect(deriveSeed('s01e01', 'intro')).not.toBe(deriveSeed('s01e01', 'outro'));
    expect(deriveSeed('a', 'b')).toBeLessThanOrEqual(2_147_483_647);
  });

  it('episode ids must be unique across all manifests of a run', async () => {
    const dir = tmp();
    const body = `version: 1\nepisodes:\n  - id: pilot\n    scenes:\n      - { id: a, left: x.wav, image: y.png }\n`;
    writeFileSync(path.join(dir, 'one.yaml'), body);
    writeFileSync(path.join(dir, 'two.yaml'), body);
    const { diagnostics } = await readManifests([path.join(dir, 'one.yaml'), path.join(dir, 'two.yaml')]);
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ file: path.join(dir, 'two.yaml'), line: 3, message: expect.stringMatching(/episode id "pilot" is already used at .*one\.yaml:3/) }),
    );
  });

  it('refuses a 50 MB file quickly with a clear message', async () => {
    const dir = tmp();
    const file = path.join(dir, 'huge.yaml');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 50 * 1024 * 1024);
    closeSync(fd);
    const run = await runCli(['validate', file, '--cache-dir', path.join(dir, 'c')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}: manifest is 50.0 MB; the limit is 2.0 MB`);
  });

  it('a missing manifest is exit 2 with its name', async () => {
    const dir = tmp();
    const run = await runCli(['validate', path.join(dir, 'nope.yaml'), '--cache-dir', path.join(dir, 'c')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path.join(dir, 'nope.yaml')}: manifest not found`);
  });

  it('a scene over 600 s is an error; over 60 s and under the billed minimum are warnings', async () => {
    const dir = tmp();
    for (const f of ['tone-1s.wav', 'two-people.png']) copyFileSync(path.join(fixtures, f), path.join(dir, f));
    const pauses = (n: number) => Array.from({ length: n }, () => '{ left: tone-1s.wav, pause: 60 }').join(', ');
    writeFileSync(
      path.join(dir, 'm.yaml'),
      `version: 1
defaults: { image: two-people.png }
episodes:
  - id: e1
    scenes:
      - { id: short, left: tone-1s.wav }
      - { id: long, lines: [${pauses(2)}] }
      - { id: too-long, lines: [${pauses(10)}] }
`,
    );
    const run = await runCli(['validate', path.join(dir, 'm.yaml'), '--cache-dir', path.join(dir, 'c')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('m.yaml:8:9 e1/too-long: scene is 610.00 s long; the limit is 600 s');
    // Fix the error: the warnings remain, exit 0.
    writeFileSync(path.join(dir, 'm.yaml'), `version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: e1\n    scenes:\n      - { id: short, left: tone-1s.wav }\n      - { id: long, lines: [${pauses(2)}] }\n`);
    const ok = await runCli(['validate', path.join(dir, 'm.yaml'), '--cache-dir', path.join(dir, 'c')]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/m\.yaml:6:9 e1\/short: scene is 1\.00 s but at least 5 s is billed: you pay for 4\.00 s of nothing/);
    expect(ok.stderr).toMatch(/m\.yaml:7:9 e1\/long: scene is 122\.00 s; InfiniteTalk's colour drift/);
  });
});
