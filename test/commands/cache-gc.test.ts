/**
 * `cache gc` never removes a clip a run may still need unless told to:
 * another show's clips survive a gc given one show's manifest; a clip any run
 * used within --older-than is kept; nothing is removed while a run is live.
 * It also sweeps what interrupted processes left behind, and says how much
 * it freed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { DAY, age } from '../helpers/cache-age.ts';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});


/** Two shows sharing one cache: A has two scenes, B one. */
function twoShows() {
  const a = tinyProject('version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: a1\n    scenes:\n      - { id: x, left: tone-1s.wav, seed: 1 }\n      - { id: y, right: tone-1s.wav, seed: 2 }\n');
  const b = tinyProject('version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: b1\n    scenes:\n      - { id: z, left: tone-2500ms.wav, seed: 3 }\n');
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-gc-'));
  made.push(a.dir, b.dir, cacheDir);
  return { a: a.manifest, b: b.manifest, cacheDir, out: path.join(cacheDir, 'out') };
}

async function render(manifest: string, cacheDir: string, out: string) {
  const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', out, '--json', '--no-report']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rendered: number; cached: number };
}

const gc = (cacheDir: string, ...args: string[]) => runCli(['cache', 'gc', ...args, '--cache-dir', cacheDir]);

/** Clip files in the store. */
function clips(cacheDir: string): string[] {
  const dir = path.join(cacheDir, 'clips');
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.mp4')) : [];
}


/** A pid that belonged to a process which has ended. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** Writes `bytes` bytes at `rel` under the cache, last modified `ago` ms ago. */
function put(cacheDir: string, rel: string, bytes: number, ago = 0): string {
  const file = path.join(cacheDir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, Buffer.alloc(bytes));
  const t = (Date.now() - ago) / 1000;
  utimesSync(file, t, t);
  return file;
}

describe('cache gc: which clips go', () => {
  it('given one show\'s manifest, keeps the clips of another show that shares the cache (they would cost money again)', async () => {
    const { a, b, cacheDir, out } = twoShows();
    await render(a, cacheDir, out);
    await render(b, cacheDir, out);
    expect(clips(cacheDir)).toHaveLength(3);

    const run = await gc(cacheDir, a);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/removed 0 clips .*; kept 3/);
    expect(clips(cacheDir)).toHaveLength(3);
    expect(await render(b, cacheDir, out)).toMatchObject({ rendered: 0, cached: 1 });

    // Only when told: --all removes every clip the given manifests do not use, however recently used.
    const all = await gc(cacheDir, a, '--all');
    expect(all.stdout).toMatch(/removed 1 clip /);
    expect(all.stdout).toMatch(/b1\/z /);
    expect(clips(cacheDir)).toHaveLength(2);
    expect(await render(a, cacheDir, out)).toMatchObject({ rendered: 0, cached: 2 });
  });

  it('--older-than counts from the last run that used a clip, not from when it was rendered', async () => {
    const { a, b, cacheDir, out } = twoShows();
    await render(a, cacheDir, out);
    await render(b, cacheDir, out);
    age(cacheDir, 40);
    await render(a, cacheDir, out); // A's clips are used again today (cache hits); B's are not

    const run = await gc(cacheDir, '--older-than', '30d');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/removed 1 clip .*; kept 2/);
    expect(run.stdout).toMatch(/b1\/z /);
    expect(await render(a, cacheDir, out)).toMatchObject({ rendered: 0, cached: 2 });
  });

  it('without --older-than or --all, no clip a run has recorded is removed; the two flags together are refused', async () => {
    const { a, b, cacheDir, out } = twoShows();
    await render(a, cacheDir, out);
    await render(b, cacheDir, out);
    age(cacheDir, 400);
    const run = await gc(cacheDir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/removed 0 clips .*; kept 3/);
    expect(run.stdout).toMatch(/--older-than AGE/);
    expect(clips(cacheDir)).toHaveLength(3);

    const both = await gc(cacheDir, '--all', '--older-than', '1d');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--all .*--older-than/);
  });

  it('while a run is live on the cache, no clip is removed, even with --all', async () => {
    const { a, cacheDir, out } = twoShows();
    await render(a, cacheDir, out);
    const store = await openStore({ dir: cacheDir });
    const live = await store.ledger.start({ provider: 'local', args: ['render'], plannedUsd: 0 }); // this process: alive
    await store.close();

    const run = await gc(cacheDir, '--all');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`run #${live} \\(pid ${process.pid}\\) is still running`));
    expect(run.stdout).toMatch(/removed 0 clips/);
    expect(clips(cacheDir)).toHaveLength(2);
  });
});

describe('cache gc: leftovers', () => {
  it('removes temp files whose writer is gone or that are a day old, keeps those being written, and reports the bytes freed', async () => {
    const { a, cacheDir, out } = twoShows();
    await render(a, cacheDir, out);
    const dead = deadPid();
    const old = 2 * DAY;
    const minutes = 5 * 60_000;
    const gone = [
      put(cacheDir, `clips/ab/${'ab'.padEnd(64, '0')}.mp4.${dead}.download`, 1000, minutes), // a download whose process died
      put(cacheDir, `remote/0123abcd.wav.${dead}.tmp`, 200, minutes),
      put(cacheDir, `work/conformed/aa/${'aa'.padEnd(64, '1')}.${process.pid}.tmp.wav`, 300, old), // live pid, but untouched for 2 days
      put(cacheDir, 'work/local/local-old.mp4.tmp', 400, old), // an interrupted local render (no pid in the name)
      put(cacheDir, `work/stitch/a1.${dead}/video.ffconcat`, 50, minutes), // a dead stitch's scratch folder
      put(cacheDir, `clips/cd/${'cd'.padEnd(64, '2')}.mp4`, 2000, minutes), // a clip no render row knows
      put(cacheDir, 'work/local/local-nobody.mp4', 1500, minutes), // a finished local render no run will collect
    ];
    const kept = [
      put(cacheDir, `work/conformed/bb/${'bb'.padEnd(64, '3')}.${process.pid}.tmp.mp4`, 100), // being written by a live process
      put(cacheDir, `remote/4567cdef.wav.${dead}.tmp`, 100), // dead pid, but written a moment ago: left a grace period
      put(cacheDir, 'work/local/local-fresh.mp4.tmp', 100), // no pid, fresh
      put(cacheDir, 'work/tracks/t.wav.0b7e4a9c-1d2e-4f3a-9b8c-7d6e5f4a3b2c.tmp', 100),
      put(cacheDir, 'work/local/local-awaited.mp4', 100, minutes), // a render a later run will resume
      put(cacheDir, 'work/tracks/built.wav', 100, old), // scratch: removed only with --older-than / --all
      put(cacheDir, 'remote/89abcdef.wav', 100, old),
    ];
    const stitchScratch = path.join(cacheDir, `work/stitch/a1.${dead}`);
    utimesSync(stitchScratch, (Date.now() - minutes) / 1000, (Date.now() - minutes) / 1000);
    const store = await openStore({ dir: cacheDir, owner: 'test-owner' });
    const inputs = { provider: 'local', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: '', order: 'meanwhile', resolution: '480p', seed: 9 };
    await store.renders.claim({ key: 'k-awaited', inputs, episodeId: 'a1', sceneId: 'w', estimateUsd: 0 });
    await store.renders.markInFlight('k-awaited', 'local-awaited');
    await store.renders.release('k-awaited');
    await store.close();

    const dry = await gc(cacheDir, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would free .*\(5450 bytes\)/);
    for (const f of gone) expect(existsSync(f)).toBe(true);

    const run = await gc(cacheDir);
    expect(run.stdout).toMatch(/removed 7 leftover/);
    expect(run.stdout).toMatch(/freed .*\(5450 bytes\)/);
    for (const f of gone) expect(existsSync(f), f).toBe(false);
    for (const f of kept) expect(existsSync(f), f).toBe(true);
    expect(clips(cacheDir)).toHaveLength(2); // the real clips are untouched
    expect(await render(a, cacheDir, out)).toMatchObject({ rendered: 0, cached: 2 });

    // Scratch (built tracks, downloaded inputs) is free to rebuild: it goes with --older-than or --all.
    const scratch = await gc(cacheDir, a, '--older-than', '1d');
    expect(scratch.code, scratch.stderr).toBe(0);
    expect(existsSync(path.join(cacheDir, 'work/tracks/built.wav'))).toBe(false);
    expect(existsSync(path.join(cacheDir, 'remote/89abcdef.wav'))).toBe(false);
    expect(clips(cacheDir)).toHaveLength(2);
  });
});
