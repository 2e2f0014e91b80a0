import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { tinyProject } from '../helpers/tasks.ts';

const media = path.join(import.meta.dirname, '../fixtures/media');
let server: Server;
let base = '';
const hits: { path: string; status: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = { '/tone.wav': 'tone-1s.wav', '/people.png': 'two-people.png' }[req.url ?? ''];
    if (req.url === '/moved.wav') {
      hits.push({ path: req.url, status: 302 });
      res.writeHead(302, { location: '/tone.wav' }).end();
      return;
    }
    if (!file) {
      hits.push({ path: req.url ?? '', status: 404 });
      res.writeHead(404).end();
      return;
    }
    const etag = `"${file}-v1"`;
    if (req.headers['if-none-match'] === etag) {
      hits.push({ path: req.url!, status: 304 });
      res.writeHead(304).end();
      return;
    }
    hits.push({ path: req.url!, status: 200 });
    res.writeHead(200, { etag }).end(readFileSync(path.join(media, file)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe('http(s) inputs', () => {
  it('are downloaded once, revalidated with their ETag, hashed like files, and passed to WaveSpeed as URLs', async () => {
    const { manifest } = tinyProject(`version: 1
episodes:
  - id: ep
    scenes:
      - { id: web, image: ${base}/people.png, left: ${base}/moved.wav, right: tone-2500ms.wav, seed: 3 }
`);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-remote-'));
    const first = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).episodes[0].scenes[0].video_seconds).toBe(2.5);
    const second = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json']);
    expect(JSON.parse(second.stdout).episodes[0].scenes[0].key).toBe(JSON.parse(first.stdout).episodes[0].scenes[0].key);
    expect(hits.filter((h) => h.path === '/people.png').map((h) => h.status)).toEqual([200, 304]);

    const fake: FakeWavespeed = await startFake();
    try {
      const run = await runCli(['render', manifest, '--cache-dir', cacheDir, '--no-report', '--out', path.join(cacheDir, 'out')], { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl });
      expect(run.code).toBe(0);
      expect(fake.submissions[0].body.image).toBe(`${base}/people.png`);
      expect(fake.submissions[0].body.left_audio).toBe(`${base}/moved.wav`);
    } finally {
      await fake.stop();
    }
  });

  it('a URL that fails is an input error naming the scene, before any spend', async () => {
    const { manifest } = tinyProject(`version: 1\nepisodes:\n  - id: ep\n    scenes:\n      - { id: web, image: two-people.png, left: ${base}/nope.wav }\n`);
    const run = await runCli(['validate', manifest, '--cache-dir', mkdtempSync(path.join(tmpdir(), 'dl-remote-'))]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`show\\.yaml:5:\\d+ ep/web: audio "${base.replace(/[.]/g, '\\.')}/nope\\.wav" cannot be downloaded: 404 from 127\\.0\\.0\\.1`));
  });
});
