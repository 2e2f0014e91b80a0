/** A render is on the books from its first moment: gc run while it is still preparing (hashing, fetching inputs) removes none of its clips. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { render } from '../../pipeline/run/render.ts';
import { runCli } from '../helpers/cli.ts';
import { until } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

describe('gc beside a render that is still preparing', () => {
  it('sees the render as live and keeps every clip', async () => {
    const { dir, manifest } = tinyProject();
    const base = mkdtempSync(path.join(tmpdir(), 'dl-gc-early-'));
    const cacheDir = path.join(base, 'cache');
    const out = path.join(base, 'out');
    expect((await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', out, '--no-report'])).code).toBe(0);

    // The next render waits on a remote input while it prepares.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const audio = readFileSync(path.join(dir, 'tone-1s.wav'));
    const server = createServer(async (_req, res) => {
      await released;
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(audio);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/line.wav`;
    const slow = tinyProject(`version: 1\nepisodes:\n  - id: later\n    scenes:\n      - { id: s, image: two-people.png, left: "${url}", seed: 5 }\n`);
    const running = render([manifest, slow.manifest], { provider: 'local', cacheDir, outDir: out, report: false });
    const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    await until(() => (db.prepare('SELECT count(*) n FROM runs WHERE finished_at IS NULL').get() as { n: number }).n === 1, 'the render to be on the books');
    db.close();
    const gc = await runCli(['cache', 'gc', '--older-than', '1s', '--cache-dir', cacheDir]);
    expect(gc.code).toBe(0);
    release();
    const result = await running;
    server.close();
    expect(result.schedule.scenes.filter((s) => s.outcome === 'rendered').map((s) => s.scene.sceneId)).toEqual(['s']); // the first show's clips were all kept
  });
});
