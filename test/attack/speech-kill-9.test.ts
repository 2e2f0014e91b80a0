/**
 * Attack (issue 14): `duologue render` (the real bin) of a script whose
 * lines are all text, killed with -9 at moments during speech and during
 * the mixed speech/video phase, then run again, over and over on one cache;
 * at last run to the end. Whatever the moment: no line is voiced twice, no
 * scene's video is submitted twice, and a last run leaves every line voiced
 * or held (never paid again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { startFake, until } from '../helpers/engine.ts';
import { fakeEnv, scriptProject } from '../helpers/script-project.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const fakes: FakeWavespeed[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

function render(p: ReturnType<typeof scriptProject>, f: FakeWavespeed): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [bin, 'render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report', '--json', '--concurrency', '3'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', ...fakeEnv(f) },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout!.resume();
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

const LINES = [
  ['Morning. The kettle is on.', 'Good. I was up half the night.', 'Then you get the big mug.'],
  ['What is on today?', 'Bread, mostly. And the garden.', 'The garden can wait.'],
  ['Did you hear that?', 'Only the wind.', 'It sounded like a door.'],
];

describe('attack: kill -9 during speech and the mixed phase', () => {
  it('no line voiced twice, no video submitted twice, across kills and reruns', { timeout: 120_000 }, async () => {
    const f = await startFake({ msPerVideoSecond: 250, seed: 5 });
    fakes.push(f);
    const p = scriptProject(LINES);
    // Kill moments: a speech submit arrived (+ a few ms), more of them, the first video submit, a later one.
    const moments: [() => boolean, number][] = [
      [() => f.speechSubmissions.length >= 1, 0],
      [() => f.speechSubmissions.length >= 3, 15],
      [() => f.speechSubmissions.length >= 6, 40],
      [() => f.submissions.length >= 1, 0],
      [() => f.submissions.length >= 2, 60],
    ];
    for (const [when, ms] of moments) {
      const run = render(p, f);
      const ended = await Promise.race([until(when, 'the kill moment', 60_000).then(() => false), run.exit.then(() => true)]);
      if (!ended) {
        await new Promise((r) => setTimeout(r, ms));
        run.child.kill('SIGKILL');
      }
      await run.exit;
    }
    const last = render(p, f);
    const code = await last.exit;
    expect([0, 1], last.stderr()).toContain(code);
    const texts = f.speechSubmissions.map((s) => s.body.text);
    expect(texts.length, `speech submits: ${texts.join(' | ')}`).toBe(new Set(texts).size);
    const videos = f.submissions.map((s) => `${s.body.seed}`);
    expect(videos.length, `video submits: ${videos.join(' | ')}`).toBe(new Set(videos).size);
    // Every line was voiced or is held (a submit cut by the kill may have been billed); nothing else is left.
    if (code === 1) expect(last.stderr()).toMatch(/may have been billed|HELD/);
    else expect(f.submissions).toHaveLength(3);
  });

  it('Ctrl-C during speech: exit 130, and the next run resumes what was submitted without paying again', { timeout: 60_000 }, async () => {
    const f = await startFake({ msPerVideoSecond: 250 });
    fakes.push(f);
    const p = scriptProject(LINES.slice(0, 1));
    const first = render(p, f);
    await until(() => f.speechSubmissions.length >= 2, 'two speech submits');
    first.child.kill('SIGINT');
    expect(await first.exit, first.stderr()).toBe(130);
    const again = render(p, f);
    expect(await again.exit, again.stderr()).toBe(0);
    const texts = f.speechSubmissions.map((s) => s.body.text);
    expect(texts).toHaveLength(3);
    expect(new Set(texts).size).toBe(3);
    expect(f.submissions).toHaveLength(1);
  });
});
