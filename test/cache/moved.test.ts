/** A cache folder moved (or restored on a CI runner at another path) keeps every hit: moving never costs money. */
import { cpSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

describe('a moved cache', () => {
  it('plan and render find the clips at their content-addressed place; verify passes there too', async () => {
    const { manifest } = tinyProject();
    const base = mkdtempSync(path.join(tmpdir(), 'dl-moved-'));
    const before = path.join(base, 'cache');
    const args = (cacheDir: string) => ['--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(base, 'out')];
    expect((await runCli(['render', manifest, ...args(before), '--no-report'])).code).toBe(0);
    const after = path.join(base, 'cache-moved');
    renameSync(before, after);

    const plan = JSON.parse((await runCli(['plan', manifest, ...args(after), '--json'])).stdout);
    expect(plan.episodes.flatMap((e: { scenes: { cache: string }[] }) => e.scenes.map((s) => s.cache))).toEqual(['hit', 'hit', 'hit']);
    const run = await runCli(['render', manifest, ...args(after), '--no-report', '--json']);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ rendered: 0, cached: 3, cost_usd: 0 });
    expect((await runCli(['cache', 'verify', '--cache-dir', after])).stdout).toMatch(/3 ok, 0 damaged/);
  });

  it('gc in a copy of a cache removes only the copy’s clips, never the original’s', async () => {
    const { manifest } = tinyProject();
    const other = tinyProject('version: 1\nepisodes:\n  - id: other\n    scenes:\n      - { id: s, image: two-people.png, left: tone-1s.wav, seed: 99 }\n');
    const base = mkdtempSync(path.join(tmpdir(), 'dl-copied-'));
    const original = path.join(base, 'cache');
    const out = path.join(base, 'out');
    expect((await runCli(['render', manifest, '--provider', 'local', '--cache-dir', original, '--out', out, '--no-report'])).code).toBe(0);
    const copy = path.join(base, 'cache-copy');
    cpSync(original, copy, { recursive: true });
    const gc = await runCli(['cache', 'gc', other.manifest, '--all', '--cache-dir', copy]);
    expect(gc.code).toBe(0);
    const plan = JSON.parse((await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', original, '--json'])).stdout);
    expect(plan.episodes.flatMap((e: { scenes: { cache: string }[] }) => e.scenes.map((s) => s.cache))).toEqual(['hit', 'hit', 'hit']);
  });
});
