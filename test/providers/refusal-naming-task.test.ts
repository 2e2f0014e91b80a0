/**
 * A submit is sent again only when its answer proves no task was created. A
 * refusal (400/422 refused inputs, 429 rate limit, 402 balance) is such proof
 * only if it names no task: one whose body carries a task id (a gateway that
 * created the task and then refused, an API that reports the task it made)
 * may have been billed, so it is ambiguous, never resubmitted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, ffmpeg, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

for (const status of [400, 422, 429, 402]) {
  it(`a ${status} whose body names a task is ambiguous: the submit is not sent again`, async () => {
    const fake = await startFake();
    fakes.push(fake);
    const [task] = await plannedTasks(tinyProject().manifest);
    const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: mkdtempSync(path.join(tmpdir(), 'dl-refusal-')), uploads: createMemoryUploadMemo(), policy: FAST_POLICY });
    const body = JSON.stringify({ code: status, message: 'refused', data: { id: 'pred-named-in-a-refusal', status: 'created' } });
    fake.script('submit', { kind: 'status', status, body, retryAfter: status === 429 ? '0.01' : undefined });
    let noTask = 0;
    const error = await provider.submit(task, { onNotSubmitted: () => void noTask++ }).catch((e: unknown) => e);
    expect(error).toMatchObject({ ambiguous: true });
    expect(fake.routeCounts.submit).toBe(1);
    expect(noTask).toBe(0); // never booked as "no task"
    await provider.close?.();
  });
}
