/**
 * Disk full and a read-only cache: a clear error, and nothing half-written is
 * ever treated as valid. Needs root to mount a tiny tmpfs and a read-only
 * bind; skipped (with the reason) where mounting is not allowed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

function tryMount(args: string[]): boolean {
  try {
    execFileSync('mount', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const base = mkdtempSync(path.join(tmpdir(), 'dl-disk-'));
const full = path.join(base, 'full');
mkdirSync(full);
const canMount = tryMount(['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', full]);
const mounted: string[] = canMount ? [full] : [];
afterAll(() => {
  for (const m of mounted.reverse()) execFileSync('umount', ['-l', m]);
});
const why = canMount ? '' : ' (SKIPPED: mounting a tmpfs needs root)';

describe('disk trouble', () => {
  it.skipIf(!canMount)(`disk full: the run fails with a clear message and leaves no clip that passes for valid${why}`, async () => {
    const { manifest } = tinyProject();
    const cacheDir = path.join(full, 'cache');
    const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(base, 'out')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No space left on device|disk is full|ENOSPC/i);
    expect(run.stderr).not.toMatch(/internal error/);
    // Whatever was recorded complete still verifies; the next plan does not count a broken clip as a hit.
    const verify = await runCli(['cache', 'verify', '--cache-dir', cacheDir]);
    expect(verify.stdout).toMatch(/0 damaged/);
    const plan = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json']);
    const hits = JSON.parse(plan.stdout).episodes.flatMap((e: { scenes: { cache: string }[] }) => e.scenes).filter((s: { cache: string }) => s.cache === 'hit');
    const complete = (await runCli(['cache', 'stats', '--cache-dir', cacheDir])).stdout.match(/complete +(\d+)/)?.[1] ?? '0';
    expect(hits.length).toBe(Number(complete));
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
