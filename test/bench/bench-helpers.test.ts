/**
 * The pieces the benchmarks' figures rest on: the poll schedule that sets
 * the fake's processing time (checked against the real client's wait loop),
 * the fake's request counts, page-cache eviction, and the median.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import type { RenderTask } from '../../pipeline/providers/types.ts';
import { DEFAULT_POLICY, type WavespeedPolicy } from '../../pipeline/providers/wavespeed/policy.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { startFakeProcess } from './fake-process.ts';
import { OVERHEAD_POLICY } from './overhead.ts';
import { evict, residentBytes } from './page-cache.ts';
import { pollTimesMs, processingForPolls } from './poll-schedule.ts';
import { summarize } from './stats.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Polls the real client makes on a task that completes `processingMs` after its submit (virtual time: no waiting). */
async function pollsUntilDone(policy: WavespeedPolicy, processingMs: number): Promise<number> {
  let clock = 0;
  let polls = 0;
  const server = createServer((_req, res) => {
    polls++;
    const done = clock >= processingMs;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 200, message: 'success', data: { id: 'p1', status: done ? 'completed' : 'processing', outputs: done ? ['http://127.0.0.1/out.mp4'] : [] } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const provider = createWavespeedProvider({
    apiKey: 'k',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ffmpeg: resolveFfmpegPaths(),
    workDir: mkdtempSync(path.join(tmpdir(), 'dl-polls-')),
    uploads: (await openStore({ dir: ':memory:' })).uploads('wavespeed'),
    policy,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  try {
    const task = { key: 'k1', episodeId: 'e', sceneId: 's', videoSeconds: 1 } as RenderTask;
    const result = await provider.wait('p1', task, { justSubmitted: true });
    expect(result.status).toBe('completed');
    return polls;
  } finally {
    await provider.close?.();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

describe('poll schedule', () => {
  it('gives the times the client looks: the expected processing time first, then growing delays', () => {
    expect(pollTimesMs(DEFAULT_POLICY, 6)).toEqual([10_000, 15_000, 22_500, 33_750, 48_750, 63_750]);
    expect(pollTimesMs(DEFAULT_POLICY, 2, 3)).toEqual([30_000, 35_000]);
  });

  it.each([4, 5, 6])('a processing time for %i polls makes the real client poll that often', async (n) => {
    for (const policy of [DEFAULT_POLICY, OVERHEAD_POLICY]) {
      expect(await pollsUntilDone(policy, processingForPolls(policy, n))).toBe(n);
    }
  });
});

describe('the fake in another process', () => {
  it('counts every poll, however few requests it keeps', async () => {
    const fake = await startFakeProcess({ apiKey: 'k', workDir: mkdtempSync(path.join(tmpdir(), 'dl-count-')), keepRequests: 1 });
    cleanups.push(() => fake.stop());
    for (let i = 0; i < 3; i++) await fetch(`${fake.apiUrl}/api/v3/predictions/nope/result`, { headers: { authorization: 'Bearer k' } }).then((r) => r.arrayBuffer());
    const stats = await fake.stats();
    expect(stats.routeCounts.result).toBe(3);
    expect(stats.routeCounts.submit).toBe(0);
  });
});

describe('page cache', () => {
  it.skipIf(residentBytes(['/proc/self/exe']) === undefined)('evicts a file that was just read', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'dl-evict-')), 'f.bin');
    const fd = openSync(file, 'w');
    writeSync(fd, Buffer.alloc(4 << 20, 7));
    fsyncSync(fd);
    closeSync(fd);
    readFileSync(file);
    expect(residentBytes([file])).toBeGreaterThan(0);
    const r = evict([file]);
    expect(r.method).not.toBe('none');
    expect(residentBytes([file])).toBe(0);
  });
});

describe('summarize', () => {
  it('takes the middle run, or the mean of the two middle ones, and the extremes', () => {
    expect(summarize([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 3, 2])).toMatchObject({ median: 2.5, min: 1, max: 4 });
  });
});
