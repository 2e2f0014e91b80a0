/**
 * Tasks in flight share one look at the prediction list, started with the
 * first waiter's signal. Every other waiter's own signal must still end its
 * wait at once: a library caller that stops one wait (its own Ctrl-C, its
 * own timeout) was held until the shared look ended (up to the headers
 * timeout, a minute by default).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { isAbort } from '../../pipeline/errors.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, ffmpeg, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

it("a wait stopped by its own signal ends while another waiter's list look is still open", async () => {
  const fake = await startFake();
  fakes.push(fake);
  const tasks = (await plannedTasks(tinyProject().manifest)).slice(0, 2);
  // The list answers only after far longer than this test may take: a wait that ends must not have waited for it.
  const policy = { ...FAST_POLICY, headersTimeoutMs: 120_000 };
  const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-board-')), uploads: createMemoryUploadMemo(), policy });
  const [a, b] = await Promise.all(tasks.map((t) => provider.submit(t)));
  fake.script('list', { kind: 'slow', ms: 100_000 });
  const first = new AbortController();
  const waitA = provider.wait(a.predictionId, tasks[0], { signal: first.signal }).catch((e: unknown) => e);
  // A's wait has started the look (synchronously, up to its request); B's joins it.
  const own = new AbortController();
  const waitB = provider.wait(b.predictionId, tasks[1], { signal: own.signal }).catch((e: unknown) => e);
  while (fake.routeCounts.list === 0) await new Promise((r) => setTimeout(r, 5));
  own.abort();
  // Fails by the test's timeout when B waits for the look.
  expect(isAbort(await waitB)).toBe(true);
  expect(fake.routeCounts.list).toBe(1);
  first.abort();
  expect(isAbort(await waitA)).toBe(true);
  await provider.close?.();
}, 20_000);
