/**
 * A submit's send deadline (send-gate.ts): the paid request's first byte
 * leaves within `sendWindowMs` of the claim check in `onSubmitting`, or it is
 * cut before any byte is written. A process paused (SIGSTOP, simulated here by
 * the clocks jumping while the check's write is on its way) past its lease
 * sends nothing; the check runs again before the next attempt, so a worker
 * that lost its claim meanwhile stops there.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { ClaimLostError } from '../../pipeline/errors.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import type { SentSubmit } from '../../pipeline/providers/types.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, ffmpeg, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';

/** Clocks that run true, plus whatever a "pause" added. */
function pausableClocks() {
  let skipped = 0;
  return {
    now: () => Date.now() + skipped,
    monotonic: () => performance.now() + skipped,
    pause: (ms: number) => void (skipped += ms),
  };
}

async function setUp(clocks: ReturnType<typeof pausableClocks>) {
  const fake = await startFake();
  fakes.push(fake);
  const [task] = await plannedTasks(tinyProject().manifest);
  const provider = createWavespeedProvider({
    apiKey: KEY,
    baseUrl: fake.apiUrl,
    ffmpeg,
    workDir: mkdtempSync(path.join(tmpdir(), 'dl-send-deadline-')),
    uploads: createMemoryUploadMemo(),
    policy: FAST_POLICY,
    now: clocks.now,
    monotonic: clocks.monotonic,
  });
  return { fake, task, provider };
}

it('paused past the send window after marking the submit, then the claim found lost: no submit leaves', async () => {
  const clocks = pausableClocks();
  const { fake, task, provider } = await setUp(clocks);
  const marked: SentSubmit[] = [];
  let noTask = 0;
  const error = await provider
    .submit(task, {
      sendWindowMs: 500,
      onSubmitting: (sent) => {
        // The first check passes, then the process "sleeps" 30 s before the bytes go out; the second
        // check (before the retry) finds another worker holds the claim now.
        if (marked.push(sent) > 1) throw new ClaimLostError(task.key);
        clocks.pause(30_000);
      },
      onNotSubmitted: () => void noTask++,
    })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ClaimLostError);
  expect(fake.requests.filter((r) => r.path === SUBMIT)).toHaveLength(0);
  expect(fake.submissions).toHaveLength(0);
  expect(noTask).toBe(1); // booked as proven "no task" before the second check
  expect(marked[0].sendBy! - marked[0].at).toBeLessThanOrEqual(500);
  await provider.close?.();
});

it('a pause that ends within the claim: cut unsent, checked again, then sent once', async () => {
  const clocks = pausableClocks();
  const { fake, task, provider } = await setUp(clocks);
  let checks = 0;
  const { predictionId } = await provider.submit(task, {
    sendWindowMs: 5_000,
    onSubmitting: () => {
      if (++checks === 1) clocks.pause(6_000);
    },
  });
  expect(checks).toBe(2);
  expect(fake.requests.filter((r) => r.path === SUBMIT)).toHaveLength(1);
  expect(fake.submissions.map((s) => s.id)).toEqual([predictionId]);
  await provider.close?.();
});

it('in time: sent at once, the deadline recorded with the submit', async () => {
  const clocks = pausableClocks();
  const { fake, task, provider } = await setUp(clocks);
  const marked: SentSubmit[] = [];
  await provider.submit(task, { sendWindowMs: 5_000, onSubmitting: (sent) => void marked.push(sent) });
  expect(marked).toHaveLength(1);
  expect(marked[0].sendBy).toBeGreaterThan(marked[0].at);
  expect(fake.submissions).toHaveLength(1);
  await provider.close?.();
});
