/**
 * `output:` is checked before any spend, in validate, plan and render alike:
 * an episode file may not overwrite an input, land in the cache, collide with
 * another episode's file (default or explicit), be a directory or a non-.mp4,
 * or leave the manifest's folder and --out unless --allow-outside.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestErrors } from '../../pipeline/errors.ts';
import { resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { render } from '../../pipeline/run/render.ts';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A project in <tmp>/work/show (so `../../` leaves it), its cache and out dir inside <tmp>/work. */
function project(episodes: string) {
  const { dir: root } = tinyProject('version: 1\nepisodes: []\n');
  made.push(root);
  const dir = path.join(root, 'work', 'show');
  mkdirSync(dir, { recursive: true });
  for (const f of ['tone-1s.wav', 'tone-2500ms.wav', 'two-people.png']) writeFileSync(path.join(dir, f), readFileSync(path.join(root, f)));
  const manifest = path.join(dir, 'show.yaml');
  writeFileSync(manifest, `version: 1\ndefaults: { image: two-people.png }\nepisodes:\n${episodes}`);
  const flags = ['--cache-dir', path.join(dir, 'cache'), '--out', path.join(root, 'work', 'out')];
  return { root, dir, manifest, flags, out: path.join(root, 'work', 'out') };
}

const errorsOf = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error: '));

describe('episode outputs', () => {
  it('outside the manifest folder and --out: refused by validate, plan and render (nothing written); --allow-outside permits it', async () => {
    const p = project(`  - id: ep1
    output: ../../somewhere/file.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
`);
    const victim = path.join(p.root, 'somewhere', 'file.mp4');
    mkdirSync(path.dirname(victim));
    writeFileSync(victim, 'precious');
    for (const command of ['validate', 'plan', 'render']) {
      const extra = command === 'validate' ? [] : ['--provider', 'local'];
      const run = await runCli([command, p.manifest, ...p.flags, ...extra]);
      expect(run.code, `${command}: ${run.stderr}`).toBe(2);
      expect(errorsOf(run.stderr)).toEqual([
        `error: ${p.manifest}:5:13 ep1: output "../../somewhere/file.mp4" is outside the manifest's folder (${p.dir}) and the output folder (${p.out}); pass --allow-outside to write there`,
      ]);
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(existsSync(path.join(p.dir, 'cache', 'clips'))).toBe(false); // nothing rendered
    const allowed = await runCli(['validate', p.manifest, ...p.flags, '--allow-outside']);
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it("an output that is one of the run's inputs (directly or through a symlink) is refused", async () => {
    const p = project(`  - id: ep1
    output: voice.wav
    scenes:
      - { id: s, left: tone-1s.wav }
  - id: ep2
    output: voice.mp4
    scenes:
      - { id: s, left: voice.mp4 }
  - id: ep3
    output: alias.mp4
    scenes:
      - { id: s, left: tone-1s.wav, right: voice.mp4 }
`);
    // Audio in an mp4 container: a valid input that .mp4 alone would not catch.
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', path.join(p.dir, 'voice.mp4')], resolveFfmpegPaths());
    writeFileSync(path.join(p.dir, 'voice.wav'), readFileSync(path.join(p.dir, 'tone-1s.wav')));
    symlinkSync(path.join(p.dir, 'voice.mp4'), path.join(p.dir, 'alias.mp4'));
    const before = readFileSync(path.join(p.dir, 'voice.mp4'));
    const run = await runCli(['render', p.manifest, ...p.flags, '--provider', 'local']);
    expect(run.code, run.stderr).toBe(2);
    const errors = errorsOf(run.stderr);
    expect(errors).toContain(`error: ${p.manifest}:5:13 ep1: output "voice.wav" does not end in .mp4: an episode is always an MP4 file, and another extension usually means a typo`);
    expect(errors).toContainEqual(expect.stringContaining(`${p.manifest}:9:13 ep2: output "voice.mp4" is an input of this run (the left audio of ep2/s: "voice.mp4"); writing the episode would destroy it`));
    expect(errors).toContainEqual(expect.stringContaining(`${p.manifest}:13:13 ep3: output "alias.mp4" is an input of this run (the left audio of ep2/s: "voice.mp4")`));
    expect(readFileSync(path.join(p.dir, 'voice.mp4')).equals(before)).toBe(true);
  });

  it("an explicit output equal to another episode's default output, or to another explicit one, is refused", async () => {
    const p = project(`  - id: ep1
    output: ../out/ep2.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
  - id: ep2
    scenes:
      - { id: s, left: tone-1s.wav }
  - id: ep3
    output: renders/a.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
  - id: ep4
    output: ./renders/../renders/a.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
`);
    const run = await runCli(['plan', p.manifest, ...p.flags, '--provider', 'local']);
    expect(run.code, run.stderr).toBe(2);
    expect(errorsOf(run.stderr)).toEqual([
      `error: ${p.manifest}:5:13 ep1: output "../out/ep2.mp4" is also where episode ep2 is written (its default, <out>/ep2.mp4); each episode needs its own file`,
      `error: ${p.manifest}:16:13 ep4: output "./renders/../renders/a.mp4" is also where episode ep3 is written (its output: "renders/a.mp4"); each episode needs its own file`,
    ]);
  });

  it('inside the cache, an existing directory, or not .mp4: all reported at once', async () => {
    const p = project(`  - id: ep1
    output: cache/ep1.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
  - id: ep2
    output: renders.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
  - id: ep3
    output: ep3.mov
    scenes:
      - { id: s, left: tone-1s.wav }
`);
    mkdirSync(path.join(p.dir, 'renders.mp4'));
    const run = await runCli(['validate', p.manifest, ...p.flags]);
    expect(run.code).toBe(2);
    expect(errorsOf(run.stderr)).toEqual([
      `error: ${p.manifest}:5:13 ep1: output "cache/ep1.mp4" is inside the cache directory (${path.join(p.dir, 'cache')}), which duologue manages and cleans`,
      `error: ${p.manifest}:9:13 ep2: output "renders.mp4" is an existing directory; name the file inside it, e.g. output: <dir>/episode.mp4`,
      `error: ${p.manifest}:13:13 ep3: output "ep3.mov" does not end in .mp4: an episode is always an MP4 file, and another extension usually means a typo`,
    ]);
    expect(run.stderr).toContain('3 errors; nothing was submitted');
  });

  it('--out inside the cache is allowed, except in the folders duologue manages (clips, work, remote)', async () => {
    const p = project(`  - id: ep1
    scenes:
      - { id: s, left: tone-1s.wav }
`);
    const cache = path.join(p.dir, 'cache');
    const ok = await runCli(['validate', p.manifest, '--cache-dir', cache, '--out', path.join(cache, 'out')]);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await runCli(['validate', p.manifest, '--cache-dir', cache, '--out', path.join(cache, 'work')]);
    expect(errorsOf(refused.stderr)).toEqual([
      `error: ${p.manifest}:4:9 ep1: output ${path.join(cache, 'work', 'ep1.mp4')} (the default, <out>/ep1.mp4) is inside the cache directory (${cache}), which duologue manages and cleans`,
    ]);
  });

  it('the library: render() refuses before any work, and takes allowOutside', async () => {
    const p = project(`  - id: ep1
    output: ../elsewhere/ep1.mp4
    scenes:
      - { id: s, left: tone-1s.wav }
`);
    const options = { provider: 'local' as const, cacheDir: path.join(p.dir, 'cache'), outDir: p.out, report: false };
    const refused = await render([p.manifest], options).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ManifestErrors);
    expect((refused as ManifestErrors).message).toContain('pass --allow-outside to write there');
    const done = await render([p.manifest], { ...options, allowOutside: true });
    expect(done.episodes).toMatchObject([{ id: 'ep1', status: 'complete', output: path.join(p.root, 'work', 'elsewhere', 'ep1.mp4') }]);
  });
});
