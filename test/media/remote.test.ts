import { readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { ManifestErrors } from '../../pipeline/errors.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { isPrivateAddress } from '../../pipeline/media/private-address.ts';
import { createRemoteFetcher } from '../../pipeline/media/remote.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { tinyProject } from '../helpers/tasks.ts';

const media = path.join(import.meta.dirname, '../fixtures/media');
let server: Server;
let base = '';
const hits: { path: string; status: number; conditional?: boolean }[] = [];
const made: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = { '/tone.wav': 'tone-1s.wav', '/people.png': 'two-people.png' }[req.url ?? ''];
    if (req.url === '/to-localhost.wav') {
      res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/tone.wav` }).end();
      return;
    }
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
    hits.push({ path: req.url!, status: 200, conditional: req.headers['if-none-match'] !== undefined });
    res.writeHead(200, { etag }).end(readFileSync(path.join(media, file)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  made.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('http(s) inputs', () => {
  it('are downloaded once, revalidated with their ETag, hashed like files, and passed to WaveSpeed as URLs', async () => {
    const { manifest, dir } = tinyProject(`version: 1
episodes:
  - id: ep
    scenes:
      - { id: web, image: ${base}/people.png, left: ${base}/moved.wav, right: tone-2500ms.wav, seed: 3 }
`);
    made.push(dir);
    const cacheDir = tmp('dl-remote-');
    const first = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).episodes[0].scenes[0].video_seconds).toBe(2.5);
    const second = await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json']);
    expect(JSON.parse(second.stdout).episodes[0].scenes[0].key).toBe(JSON.parse(first.stdout).episodes[0].scenes[0].key);
    expect(hits.filter((h) => h.path === '/people.png').map((h) => h.status)).toEqual([200, 304]);

    const fake: FakeWavespeed = await startFake();
    try {
      const run = await runCli(['render', manifest, '--cache-dir', cacheDir, '--no-report', '--out', path.join(cacheDir, 'out')], { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.001' });
      expect(run.code, run.stderr).toBe(0);
      expect(fake.submissions[0].body.image).toBe(`${base}/people.png`);
      expect(fake.submissions[0].body.left_audio).toBe(`${base}/moved.wav`);
    } finally {
      await fake.stop();
    }
  });

  it('a URL that fails is an input error naming the scene, before any spend', async () => {
    const { manifest, dir } = tinyProject(`version: 1\nepisodes:\n  - id: ep\n    scenes:\n      - { id: web, image: two-people.png, left: ${base}/nope.wav }\n`);
    made.push(dir);
    const run = await runCli(['validate', manifest, '--cache-dir', tmp('dl-remote-')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`show\\.yaml:5:\\d+ ep/web: audio "${base.replace(/[.]/g, '\\.')}/nope\\.wav" cannot be downloaded: 404 from 127\\.0\\.0\\.1`));
  });
});

describe('remote input cache', () => {
  it('a cached input whose file was deleted (metadata kept) is downloaded again, without conditional headers', async () => {
    const cacheDir = tmp('dl-remote-');
    const fetch = createRemoteFetcher(path.join(cacheDir, 'remote'));
    const file = await fetch(`${base}/people.png`);
    unlinkSync(file);
    expect(readdirSync(path.join(cacheDir, 'remote'))).toEqual([`${path.basename(file)}.json`]); // metadata stayed
    hits.length = 0;
    expect(await fetch(`${base}/people.png`)).toBe(file);
    expect(readFileSync(file).equals(readFileSync(path.join(media, 'two-people.png')))).toBe(true);
    expect(hits).toEqual([{ path: '/people.png', status: 200, conditional: false }]);
    hits.length = 0;
    await fetch(`${base}/people.png`); // and the next run revalidates as before
    expect(hits).toEqual([{ path: '/people.png', status: 304 }]);
  });
});

describe('redirects to private addresses', () => {
  /** A "public" origin (TEST-NET-3, never routed) answered by undici's MockAgent: nothing leaves the machine. */
  function publicOrigin(location: string): MockAgent {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('http://203.0.113.10').intercept({ path: '/a.wav' }).reply(302, '', { headers: { location } });
    return agent;
  }

  it.each([
    'http://127.0.0.1:9/tone.wav',
    'http://localhost:9/tone.wav',
    'http://10.1.2.3/x.wav',
    'http://172.20.0.1/x.wav',
    'http://192.168.1.1/x.wav',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:9/x.wav',
    'http://[fd00::1]/x.wav',
    'http://[fe80::1]/x.wav',
    'http://[::ffff:127.0.0.1]/x.wav',
  ])('from a public URL to %s is refused (E_INPUT), and the private address is never asked', async (location) => {
    const agent = publicOrigin(location);
    const fetch = createRemoteFetcher(tmp('dl-remote-'), { dispatcher: agent });
    const error = await fetch('http://203.0.113.10/a.wav').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^refused a redirect from 203\.0\.113\.10 \(a public address\) to .+ \(a private or loopback address\)$/) });
    await agent.close();
  });

  it('is reported as a positioned input error before any spend', async () => {
    const { dir, manifest } = tinyProject(`version: 1\nepisodes:\n  - id: ep\n    scenes:\n      - { id: web, image: two-people.png, left: http://203.0.113.10/a.wav }\n`);
    made.push(dir);
    const agent = publicOrigin('http://192.168.0.10/a.wav');
    const store = await openStore({ dir: ':memory:' });
    const error = await prepare([manifest], { memo: store.files, ffmpeg: resolveFfmpegPaths(), prices: PROVIDERS.local.prices, fetchRemote: createRemoteFetcher(tmp('dl-remote-'), { dispatcher: agent }) }).catch((e: unknown) => e);
    await store.close();
    await agent.close();
    expect(error).toBeInstanceOf(ManifestErrors);
    expect((error as ManifestErrors).diagnostics).toMatchObject([
      { code: 'E_INPUT', line: 5, where: 'ep/web', message: 'audio "http://203.0.113.10/a.wav" cannot be downloaded: refused a redirect from 203.0.113.10 (a public address) to 192.168.0.10 (a private or loopback address)' },
    ]);
  });

  it('loopback to loopback (by name) still works', async () => {
    const file = await createRemoteFetcher(tmp('dl-remote-'))(`${base}/to-localhost.wav`);
    expect(readFileSync(file).equals(readFileSync(path.join(media, 'tone-1s.wav')))).toBe(true);
  });

  it('classifies addresses', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.1.1', '0.0.0.0', '::1', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1', '::ffff:10.0.0.1']) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '172.15.255.255', '172.32.0.1', '192.169.0.1', '203.0.113.10', '2001:db8::1', 'fec0::1', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });
});

describe('remote input limits and Last-Modified', () => {
  const BYTES = readFileSync(path.join(media, 'tone-1s.wav'));
  let limits: Server;
  let at = '';
  /** Requests seen, with the validator each carried. */
  const seen: { path: string; ifModifiedSince?: string; status: number }[] = [];
  const FIRST_DATE = 'Wed, 21 Oct 2026 07:28:00 GMT';
  let lastModified = FIRST_DATE;
  let version = BYTES;
  beforeEach(() => {
    // Each test starts from the server's first version of /dated.wav.
    lastModified = FIRST_DATE;
    version = BYTES;
    seen.length = 0;
  });

  beforeAll(async () => {
    limits = createServer((req, res) => {
      const url = req.url ?? '';
      const hop = /^\/hop\/(\d+)$/.exec(url);
      if (hop) {
        const n = Number(hop[1]);
        seen.push({ path: url, status: 302 });
        res.writeHead(302, { location: n > 1 ? `/hop/${n - 1}` : '/dated.wav' }).end();
        return;
      }
      if (url === '/dated.wav') {
        // Last-Modified only (no ETag): the next run revalidates with If-Modified-Since.
        const since = req.headers['if-modified-since'];
        const status = since === lastModified ? 304 : 200;
        seen.push({ path: url, ifModifiedSince: since, status });
        if (status === 304) res.writeHead(304).end();
        else res.writeHead(200, { 'last-modified': lastModified, 'content-length': String(version.length) }).end(version);
        return;
      }
      if (url === '/announced-big.wav') {
        // Says it is larger than the limit; the body is never wanted.
        res.writeHead(200, { 'content-length': String(10 * BYTES.length) });
        res.write(BYTES);
        return; // left open: a client that waited for the body would hang
      }
      if (url === '/streamed-big.wav') {
        // No length announced: the limit must be counted while streaming.
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 10; i++) res.write(BYTES);
        res.end();
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => limits.listen(0, '127.0.0.1', r));
    at = `http://127.0.0.1:${(limits.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    limits.closeAllConnections();
    await new Promise((r) => limits.close(r));
  });

  it('follows up to five redirects; a sixth is refused', async () => {
    const fetch = createRemoteFetcher(tmp('dl-remote-'));
    expect(readFileSync(await fetch(`${at}/hop/5`)).equals(BYTES)).toBe(true);
    seen.length = 0; // only the refused chain below
    await expect(fetch(`${at}/hop/6`)).rejects.toThrow(/^more than 5 redirects$/);
    expect(seen.map((r) => r.path)).toEqual(['/hop/6', '/hop/5', '/hop/4', '/hop/3', '/hop/2', '/hop/1']); // the file itself is never asked
  });

  it('refuses an input over the size limit, announced or streamed, and leaves nothing behind', async () => {
    const dir = tmp('dl-remote-');
    const fetch = createRemoteFetcher(dir, { maxBytes: 3 * BYTES.length });
    await expect(fetch(`${at}/announced-big.wav`)).rejects.toThrow(`${10 * BYTES.length} bytes is over the ${3 * BYTES.length}-byte limit for an input`);
    await expect(fetch(`${at}/streamed-big.wav`)).rejects.toThrow(`over the ${3 * BYTES.length}-byte limit for an input`);
    expect(readdirSync(dir)).toEqual([]);
    // Under the limit is fine.
    expect(readFileSync(await fetch(`${at}/dated.wav`)).equals(BYTES)).toBe(true);
  });

  it('revalidates with Last-Modified: unchanged is reused (304), a newer file is downloaded again', async () => {
    const fetch = createRemoteFetcher(tmp('dl-remote-'));
    const file = await fetch(`${at}/dated.wav`);
    expect(await fetch(`${at}/dated.wav`)).toBe(file);
    expect(seen).toEqual([
      { path: '/dated.wav', ifModifiedSince: undefined, status: 200 },
      { path: '/dated.wav', ifModifiedSince: lastModified, status: 304 },
    ]);
    const before = lastModified;
    lastModified = 'Thu, 22 Oct 2026 09:00:00 GMT';
    version = Buffer.concat([BYTES, Buffer.alloc(2)]);
    expect(await fetch(`${at}/dated.wav`)).toBe(file);
    expect(seen[2]).toEqual({ path: '/dated.wav', ifModifiedSince: before, status: 200 });
    expect(readFileSync(file).equals(version)).toBe(true); // the new bytes (a new cache key)
    await fetch(`${at}/dated.wav`);
    expect(seen[3]).toEqual({ path: '/dated.wav', ifModifiedSince: lastModified, status: 304 }); // and its new date is what is sent next
  });
});
