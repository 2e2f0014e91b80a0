/**
 * Disk full and a read-only cache: a clear error, and nothing half-written is
 * ever treated as valid. Mounting a small tmpfs and a read-only bind needs
 * the mount capability (CAP_SYS_ADMIN; root in a container may lack it):
 * where `mount` fails, both tests are skipped and their names say why.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

/** Mounts; on failure, why (mount's own words). */
function tryMount(args: string[]): string | undefined {
  try {
    execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    return (e.stderr?.toString().trim() || e.message).split('\n')[0];
  }
}

const base = mkdtempSync(path.join(tmpdir(), 'dl-disk-'));
const full = path.join(base, 'full');
mkdirSync(full);
const mountRefused = tryMount(['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', full]);
const canMount = mountRefused === undefined;
const mounted: string[] = canMount ? [full] : [];
afterAll(() => {
  for (const m of mounted.reverse()) execFileSync('umount', ['-l', m]);
});
const why = canMount ? '' : ` (SKIPPED: \`mount -t tmpfs\` failed, it needs the mount capability: ${mountRefused?.replaceAll(full, '<dir>')})`;

/** Left free when the disk is filled: less than one scene's render needs (work file, clip, records), so the run runs out partway. */
const FILLER_SLACK = 128 * 1024;

/** Fills the file system at `dir` up to FILLER_SLACK bytes free. */
function fill(dir: string): void {
  const { bavail, bsize } = statfsSync(dir);
  writeFileSync(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - FILLER_SLACK)));
}

/** The real `duologue` binary in a child process. */
function cliProcess(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, '../../bin/duologue.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function completeCount(cacheDir: string): Promise<number> {
  const stats = await runCli(['cache', 'stats', '--cache-dir', cacheDir]);
  return Number(stats.stdout.match(/complete +(\d+)/)?.[1] ?? 0);
}

async function planScenes(manifest: string, cacheDir: string): Promise<{ cache: string }[]> {
  const plan = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json']);
  return JSON.parse(plan.stdout).episodes.flatMap((e: { scenes: { cache: string }[] }) => e.scenes);
}

describe('disk trouble', () => {
  it.skipIf(!canMount)(`disk full: the run fails with a clear message; the clips rendered before still verify and hit, none half-written passes for valid${why}`, async () => {
    const { manifest } = tinyProject();
    const cacheDir = path.join(full, 'cache');
    const outDir = path.join(base, 'out'); // episodes go elsewhere: only the cache is short of room
    // Room first: three scenes render and are recorded complete.
    const first = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', outDir, '--no-report']);
    expect(first.code, first.stderr).toBe(0);
    expect(await completeCount(cacheDir)).toBe(3);

    // Then the disk fills up (all but FILLER_SLACK bytes) and every scene changes (new seeds): the run runs out of space.
    fill(full);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('seed: 11', 'seed: 21').replace('seed: 12', 'seed: 22').replace('resolution: 720p', 'resolution: 720p, seed: 23'));
    // In its own process, as a user's run is: its claims die with it, so the next run may take them over.
    const run = await cliProcess(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', outDir, '--no-report']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No space left on device|disk is full|ENOSPC/i);
    expect(run.stderr).not.toMatch(/internal error/);

    // What was recorded complete still verifies (the first three, and any new one that fitted), and the next plan
    // counts exactly those as hits: a clip cut short by the full disk is neither complete nor a hit.
    const complete = await completeCount(cacheDir);
    expect(complete).toBeGreaterThanOrEqual(3);
    const verify = await runCli(['cache', 'verify', '--cache-dir', cacheDir]);
    expect(verify.stdout).toContain(`verified ${complete} clips: ${complete} ok, 0 damaged`);
    const hits = (await planScenes(manifest, cacheDir)).filter((s) => s.cache === 'hit');
    expect(hits.length).toBe(complete - 3); // the first three have the old seeds: not in this manifest

    // With room again, the next run renders what is missing, and every clip in the store verifies.
    rmSync(path.join(full, 'filler'));
    const again = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', outDir, '--no-report']);
    expect(again.code, again.stderr).toBe(0);
    expect((await planScenes(manifest, cacheDir)).map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    expect((await runCli(['cache', 'verify', '--cache-dir', cacheDir])).stdout).toContain('verified 6 clips: 6 ok, 0 damaged');
    const old = readFileSync(manifest, 'utf8').replace('seed: 21', 'seed: 11').replace('seed: 22', 'seed: 12').replace('resolution: 720p, seed: 23', 'resolution: 720p');
    writeFileSync(manifest, old);
    expect((await planScenes(manifest, cacheDir)).map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
  });

  it.skipIf(!canMount)(`read-only cache dir: render refuses with E_CACHE before any work; plan still works${why}`, async () => {
    const { manifest } = tinyProject();
    const src = path.join(base, 'ro-src');
    mkdirSync(src);
    await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', src]); // creates the database
    const ro = path.join(base, 'ro');
    mkdirSync(ro);
    execFileSync('mount', ['--bind', '-o', 'ro', src, ro]);
    mounted.push(ro);
    const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', ro]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error \[E_CACHE\]: .*(read-only|readonly)/i);
    const plan = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', ro]);
    expect(plan.code).toBe(0);
  });
});
