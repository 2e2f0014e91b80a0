/**
 * What `cache gc` removes is really gone, and only that: the clip file, its
 * render row (so the next run renders it, instead of trusting a row whose
 * file is gone) and its conformed copies; every kept clip keeps its file, its
 * row and its copies. `--dry-run` removes nothing at all.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../pipeline/cache/sqlite/db.ts';
import { age } from '../helpers/cache-age.ts';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';


/** Render rows by scene, with their clip paths. */
function renders(cacheDir: string): Map<string, { key: string; status: string; clip_path: string }> {
  const db = openDb(cacheDir);
  try {
    const rows = db.prepare('SELECT scene_id, key, status, clip_path FROM renders').all() as { scene_id: string; key: string; status: string; clip_path: string }[];
    return new Map(rows.map((r) => [r.scene_id, r]));
  } finally {
    db.close();
  }
}

/** Conformed copies (video, audio, meta) made from the clip of `key`. */
function conformedOf(cacheDir: string, key: string): string[] {
  const dir = path.join(cacheDir, 'work', 'conformed');
  const metas = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
  const mine = metas.filter((m) => (JSON.parse(readFileSync(m, 'utf8')) as { identity?: string }).identity === key);
  return mine.flatMap((m) => ['.json', '.mp4', '.wav'].map((ext) => m.replace(/\.json$/, ext)));
}


describe('cache gc deletes for real', () => {
  it('an unused clip loses its file, row and conformed copies; the used ones keep all three; the next render renders it again', async () => {
    const a = tinyProject('version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: a1\n    scenes:\n      - { id: x, left: tone-1s.wav, seed: 1 }\n      - { id: y, right: tone-1s.wav, seed: 2 }\n');
    const b = tinyProject('version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: b1\n    scenes:\n      - { id: z, left: tone-1s.wav, seed: 3 }\n');
    const cacheDir = path.join(a.dir, 'cache');
    const render = async (manifest: string) => {
      const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(a.dir, 'out'), '--json', '--no-report']);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rendered: number; cached: number };
    };
    await render(a.manifest);
    await render(b.manifest);
    age(cacheDir, 40);
    await render(a.manifest); // A's clips are used again today; B's is not

    const before = renders(cacheDir);
    const files = (scene: string) => [before.get(scene)!.clip_path, ...conformedOf(cacheDir, before.get(scene)!.key)];
    const z = files('z');
    const kept = [...files('x'), ...files('y')];
    expect(z).toHaveLength(4); // the clip and its conformed video, audio and meta
    expect(kept).toHaveLength(8);
    for (const f of [...z, ...kept]) expect(existsSync(f), f).toBe(true);

    const dry = await runCli(['cache', 'gc', '--older-than', '30d', '--dry-run', '--cache-dir', cacheDir]);
    expect(dry.stdout).toMatch(/would remove 1 clip /);
    for (const f of [...z, ...kept]) expect(existsSync(f), f).toBe(true);
    expect([...renders(cacheDir).keys()].sort()).toEqual(['x', 'y', 'z']);

    const gc = await runCli(['cache', 'gc', '--older-than', '30d', '--cache-dir', cacheDir]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/removed 1 clip .*; kept 2/);
    for (const f of z) expect(existsSync(f), f).toBe(false);
    for (const f of kept) expect(existsSync(f), f).toBe(true);
    const after = renders(cacheDir);
    expect([...after.keys()].sort()).toEqual(['x', 'y']);
    for (const s of ['x', 'y']) expect(after.get(s)).toEqual(before.get(s));

    expect(await render(b.manifest)).toMatchObject({ rendered: 1, cached: 0 });
    expect(await render(a.manifest)).toMatchObject({ rendered: 0, cached: 2 });
  });
});
