/**
 * An API answer is a small JSON envelope; a body past the client's limit
 * (1 MiB, http.ts) is a broken proxy or a hostile server, not data. The
 * client stops reading there (it never buffers the rest) and says which call
 * it was; on a submit the task may still exist, so it is ambiguous.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { ffmpeg } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const LIMIT = 1 << 20;
/** What the server would send in all: far more than the limit plus any socket buffers. */
const ENDLESS = 256 * LIMIT;
const CHUNK = Buffer.alloc(64 * 1024, 0x20); // spaces: still "JSON" as far as the bytes go

let server: Server;
let base = '';
/** Bytes the server got written to its socket per request path, when the request ended. */
const written = new Map<string, number>();
let task: PlannedScene;
let provider: Provider;

/** Writes an endless 200 JSON body, as fast as the client reads it, until the client hangs up. */
function flood(res: ServerResponse, key: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"code": 200, "message": "');
  let sent = 0;
  const pump = () => {
    while (sent < ENDLESS && !res.destroyed) {
      sent += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    res.end('"}');
  };
  res.on('close', () => written.set(key, sent));
  pump();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    flood(res, `${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [first] = await plannedTasks(tinyProject().manifest);
  // Inputs given as URLs: the submit is the only call (no uploads).
  task = {
    ...first,
    image: { ...first.image, location: 'https://cdn.example/i.png' },
    tracks: { left: { ...first.tracks.left, location: 'https://cdn.example/l.wav' }, right: { ...first.tracks.right, location: 'https://cdn.example/r.wav' } },
  } as PlannedScene;
});
afterEach(async () => {
  await provider?.close?.();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function newProvider(): Provider {
  provider = createWavespeedProvider({ apiKey: 'k-limits', baseUrl: base, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-ws-')), uploads: createMemoryUploadMemo(), policy: FAST_POLICY });
  return provider;
}

/** Until the server has seen the request end (the client hung up). */
async function writtenFor(key: string): Promise<number> {
  for (let i = 0; i < 500 && !written.has(key); i++) await new Promise((r) => setTimeout(r, 10));
  return written.get(key) ?? Number.NaN;
}

describe('an answer body over the limit', () => {
  it('a poll: E_API naming the call; reading stops near the limit', async () => {
    const error = await newProvider().poll('p1', task).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_API', message: `result of ep1/both (prediction p1): response body over ${LIMIT} bytes (not read further)` });
    // The client hung up: the server wrote the limit plus what the sockets buffer, not the whole flood.
    expect(await writtenFor('GET /api/v3/predictions/p1/result')).toBeLessThan(32 * LIMIT);
  });

  it('a submit: ambiguous (a 2xx whose body cannot be read may have created the task), not resubmitted', async () => {
    const error = await newProvider().submit(task).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_API', ambiguous: true, message: expect.stringMatching(new RegExp(`^submit ep1/both: response body over ${LIMIT} bytes .*may have been created and billed`)) });
    expect(await writtenFor('POST /api/v3/wavespeed-ai/infinitetalk/multi')).toBeLessThan(32 * LIMIT);
  });
});
