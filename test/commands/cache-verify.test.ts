/**
 * `cache verify` re-hashes the clip store: a clip cut short and one whose
 * bytes changed (same size, so a render's size check would take it as a hit)
 * are both reported, and nothing changes until `--fix` forgets them; the next
 * render then renders exactly those again.
 */
import { openSync, readFileSync, truncateSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

interface Row {
  key: string;
  scene_id: string;
  status: string;
  clip_path: string | null;
  clip_bytes: number;
  paid_attempts: number;
  error: string | null;
  updated_at: number;
}

function rows(cacheDir: string): Row[] {
  const db = openDb(cacheDir);
  try {
    return db.prepare('SELECT key, scene_id, status, clip_path, clip_bytes, paid_attempts, error, updated_at FROM renders ORDER BY scene_id').all() as Row[];
  } finally {
    db.close();
  }
}

const verify = (cacheDir: string, ...flags: string[]) => runCli(['cache', 'verify', ...flags, '--cache-dir', cacheDir]);

describe('cache verify', () => {
  it('reports a truncated and a corrupted clip (exit 1) without touching them; --fix forgets exactly those; the next render re-renders them', async () => {
    const { dir, manifest } = tinyProject(
      'version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: both, left: tone-1s.wav, right: tone-1s.wav, seed: 1 }\n      - { id: solo, left: tone-1s.wav, seed: 2 }\n      - { id: talk, right: tone-1s.wav, seed: 3 }\n',
    );
    const cacheDir = path.join(dir, 'cache');
    const render = async () => {
      const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(dir, 'out'), '--json', '--no-report']);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rendered: number; cached: number };
    };
    expect(await render()).toMatchObject({ rendered: 3 });
    const [both, solo, talk] = rows(cacheDir);
    truncateSync(both.clip_path!, both.clip_bytes - 100); // a download or a disk cut short
    const fd = openSync(talk.clip_path!, 'r+'); // bit rot: same size, other bytes
    writeSync(fd, Buffer.from('rot'), 0, 3, Math.floor(talk.clip_bytes / 2));
    closeSync(fd);
    expect(readFileSync(talk.clip_path!).length).toBe(talk.clip_bytes);

    const report = await verify(cacheDir);
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(/verified 3 clips: 1 ok, 2 damaged/);
    expect(report.stdout).toContain(`damaged: ep1/both (${both.key.slice(0, 12)}): damaged (size ${both.clip_bytes - 100}, recorded ${both.clip_bytes})`);
    expect(report.stdout).toContain(`damaged: ep1/talk (${talk.key.slice(0, 12)}): content differs from the recorded sha256`);
    expect(report.stdout).not.toContain('ep1/solo');
    expect(report.stdout).toMatch(/cache verify --fix/);
    expect(rows(cacheDir).map((r) => r.status)).toEqual(['complete', 'complete', 'complete']); // reporting changes nothing

    const fixed = await verify(cacheDir, '--fix');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/ep1\/both .*forgotten; the next render re-renders it/);
    expect(fixed.stdout).toMatch(/ep1\/talk .*forgotten; the next render re-renders it/);
    const after = rows(cacheDir);
    // A damaged clip is a miss to render again, not a paid try held against the key.
    expect(after.find((r) => r.scene_id === 'both')).toMatchObject({ status: 'failed', clip_path: null, paid_attempts: 0, error: expect.stringMatching(/^clip damaged/) });
    expect(after.find((r) => r.scene_id === 'talk')).toMatchObject({ status: 'failed', clip_path: null, paid_attempts: 0, error: 'clip content differs from the recorded sha256' });
    expect(after.find((r) => r.scene_id === 'solo')).toMatchObject({ status: 'complete', clip_path: solo.clip_path, updated_at: solo.updated_at });
    // Forgotten as a render whose clip went bad is (the store's forget): the change is dated.
    expect(after.find((r) => r.scene_id === 'both')!.updated_at).toBeGreaterThan(both.updated_at);
    expect((await verify(cacheDir)).stdout).toMatch(/verified 1 clip: 1 ok, 0 damaged/);

    expect(await render()).toMatchObject({ rendered: 2, cached: 1 });
    const again = await verify(cacheDir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/verified 3 clips: 3 ok, 0 damaged/);
  });
});
