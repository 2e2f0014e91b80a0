/**
 * The WaveSpeed agent keeps at most `connectionsPerOrigin` sockets per
 * origin: a wave of requests (a minute's submits released at once, a burst
 * of downloads) waits for a socket instead of opening one each. A request
 * aborted while it waits is never sent, so a stopped submit cannot reach the
 * API after the stop.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { wavespeedAgent } from '../../pipeline/providers/wavespeed/agent.ts';
import { DEFAULT_POLICY } from '../../pipeline/providers/wavespeed/policy.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A server that answers every request after `holdMs`, counting sockets and requests by path. */
async function slowServer(holdMs: number) {
  const seen = { sockets: 0, paths: [] as string[] };
  server = createServer((req, res) => {
    seen.paths.push(req.url ?? '');
    setTimeout(() => res.end('{}'), holdMs);
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', () => seen.sockets++);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('connections per origin', () => {
  it('a wave of 60 requests shares the capped sockets, and every one is answered', async () => {
    const { base, seen } = await slowServer(20);
    const agent = wavespeedAgent({ ...DEFAULT_POLICY, connectionsPerOrigin: 4 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const res = await request(`${base}/r/${i}`, { dispatcher: agent });
          await res.body.text();
          return res.statusCode;
        }),
      );
      expect(answers.every((s) => s === 200)).toBe(true);
      expect(seen.paths).toHaveLength(60);
      expect(seen.sockets).toBeLessThanOrEqual(4);
      expect(seen.sockets).toBeGreaterThan(0);
    } finally {
      await agent.close();
    }
  });

  it('a request aborted while it waits for a socket never reaches the server', async () => {
    const { base, seen } = await slowServer(150);
    const agent = wavespeedAgent({ ...DEFAULT_POLICY, connectionsPerOrigin: 1 });
    try {
      const first = request(`${base}/first`, { dispatcher: agent }).then((r) => r.body.text());
      const stop = new AbortController();
      const waiting = request(`${base}/submit`, { method: 'POST', body: '{}', dispatcher: agent, signal: stop.signal });
      await new Promise((r) => setTimeout(r, 30)); // the first holds the only socket
      stop.abort(new Error('interrupted'));
      await expect(waiting).rejects.toThrow();
      await first;
      // Give a request that did slip out time to arrive.
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.paths).toEqual(['/first']);
    } finally {
      await agent.close();
    }
  });
});
