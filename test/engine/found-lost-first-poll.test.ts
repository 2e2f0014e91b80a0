/**
 * A task an earlier run submitted (its answer lost, found now in the
 * prediction list) is resumed like any other: looked at at once. It was
 * treated as just submitted and slept on for its whole expected processing
 * time (10 s per second of video: 10 minutes for a one-minute scene) though
 * it may have finished long ago.
 */
import { expect, it } from 'vitest';
import { realSleep } from '../../pipeline/sleep.ts';
import type { Fault } from '../fakes/wavespeed-server.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();

it('a task found for an earlier run\'s lost submit is polled at once, not after its expected processing time', async () => {
  const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
  // First run: the task is created but its answer is lost, and the list cannot be read to find it.
  fake.script('submit', { kind: 'lost-answer' });
  fake.script('list', ...Array<Fault>(FAST_POLICY.maxAttempts!).fill({ kind: 'status', status: 500 }));
  const first = await startRun(manifest, cacheDir, fake).done;
  expect(first.summary.failed).toBe(1);
  expect(fake.submissions).toHaveLength(1);

  // Second run: the list finds it. A first look an hour (per video second) away shows as a long sleep.
  const policy = { ...FAST_POLICY, firstPollPerVideoSecondMs: 3_600_000, deadlineBaseMs: 3_600_000 };
  const slept: number[] = [];
  const second = await startRun(manifest, cacheDir, fake, {
    policy,
    sleep: (ms, signal) => {
      slept.push(ms);
      return realSleep(Math.min(ms, 50), signal); // a broken wait shows in `slept`, not as a stalled test
    },
  }).done;
  expect(second.summary.rendered).toBe(1);
  expect(fake.submissions).toHaveLength(1); // found, not paid again
  expect(Math.max(...slept)).toBeLessThan(60_000);
});
