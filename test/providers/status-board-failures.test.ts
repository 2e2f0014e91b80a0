/**
 * The shared prediction list only saves requests: when it fails (429, 5xx,
 * a broken body) a task's own result request answers at once. Retrying the
 * list (Retry-After up to 2 minutes, five times) held every task in flight
 * for up to ten minutes before any of them looked at its own result.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { DuologueError } from '../../pipeline/errors.ts';
import { DEFAULT_POLICY } from '../../pipeline/providers/wavespeed/policy.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import type { Fault, FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, ffmpeg, startFake, until } from '../helpers/engine.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** The real policy on a clock that only sleeps move: waits cost nothing and can be counted. */
function virtualClock() {
  let t = Date.now();
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new DuologueError('E_ABORTED', 'aborted');
      t += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

const FAULTS: Fault[] = [
  { kind: 'status', status: 429, retryAfter: '100' },
  { kind: 'status', status: 503 },
  { kind: 'reset' },
];

for (const fault of FAULTS) {
  it(`a finished task is answered at once when the list fails (${fault.kind === 'status' ? fault.status : fault.kind})`, async () => {
    const fake = await startFake();
    fakes.push(fake);
    const [task] = await plannedTasks(tinyProject().manifest);
    const clock = virtualClock();
    const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-board-')), uploads: createMemoryUploadMemo(), policy: DEFAULT_POLICY, ...clock });
    try {
      const { predictionId } = await provider.submit(task);
      await until(() => fake.openPredictions === 0, 'the task to finish at the fake');
      fake.script('list', ...Array<Fault>(10).fill(fault));
      const before = clock.now();
      const result = await provider.wait(predictionId, task);
      expect(result.status).toBe('completed');
      // One list request (it failed), then the task's own answer: no retry of the list, no wait on it.
      expect(fake.routeCounts.list).toBe(1);
      expect(clock.now() - before).toBeLessThan(DEFAULT_POLICY.pollInitialMs);
    } finally {
      await provider.close?.();
    }
  });
}

it('a failed look is not asked again by the next task while it is fresh', async () => {
  const fake = await startFake();
  fakes.push(fake);
  const tasks = (await plannedTasks(tinyProject().manifest)).slice(0, 2);
  const clock = virtualClock();
  const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-board-')), uploads: createMemoryUploadMemo(), policy: DEFAULT_POLICY, ...clock });
  try {
    const ids = await Promise.all(tasks.map((t) => provider.submit(t)));
    await until(() => fake.openPredictions === 0, 'the tasks to finish at the fake');
    fake.script('list', ...Array<Fault>(10).fill({ kind: 'status', status: 503 }));
    // One after the other at the same instant (the clock only moves in sleeps): the second finds the failed look still fresh.
    for (const [i, task] of tasks.entries()) expect((await provider.wait(ids[i].predictionId, task)).status).toBe('completed');
    expect(fake.routeCounts.list).toBe(1);
    expect(fake.routeCounts.result).toBe(2);
  } finally {
    await provider.close?.();
  }
});
