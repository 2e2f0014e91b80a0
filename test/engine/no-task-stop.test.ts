/**
 * A stop (Ctrl-C) that lands while a submit is open, whose answer then proves
 * no task was created (a 402, a 429 at its deadline, a stop between
 * attempts): nothing can have been billed, so the run counts nothing spent
 * and the key is not left "maybe billed" for the next run to look up. The
 * scheduler recognises these answers by their class (`TaskNotCreatedError`
 * in errors.ts), not by a flag it guesses at.
 */
import { describe, expect, it } from 'vitest';
import { InsufficientBalanceError, RateLimitedError, StoppedBeforeTaskError, type DuologueError } from '../../pipeline/errors.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { PollResult, Provider } from '../../pipeline/providers/types.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const project = fakeProjects();

/** Sends (the task may be billed from here), is stopped, then answered with `answer`. */
function stoppedMidSubmit(stop: AbortController, answer: () => DuologueError): Provider {
  return {
    info: PROVIDERS.wavespeed,
    submit: async (_task, { onSubmitting } = {}) => {
      // Awaited, as a provider must (the request goes out only once "submitting" is written).
      await onSubmitting?.({ model: PROVIDERS.wavespeed.model, at: Date.now(), body: {} });
      stop.abort();
      throw answer();
    },
    poll: async (): Promise<PollResult> => ({ status: 'processing' }),
    wait: async (): Promise<PollResult> => ({ status: 'processing' }),
    download: async () => {
      throw new Error('not reached: nothing was submitted');
    },
  };
}

describe('a stop mid-submit, answered with proof that no task was created', () => {
  it.each([
    ['402 insufficient balance', () => new InsufficientBalanceError('submit ep1/a: 402 — no task')],
    ['429 at its deadline', () => new RateLimitedError('submit ep1/a: still rate limited (429)')],
    ['a stop between attempts', () => new StoppedBeforeTaskError()],
  ])('%s: nothing spent, and the next run submits it without looking for a lost task', async (_what, answer) => {
    const { fake, manifest, cacheDir } = await project([sceneYaml('a', 2.5, 1)]);
    const stop = new AbortController();
    const first = await startRun(manifest, cacheDir, fake, { providerInstance: stoppedMidSubmit(stop, answer), signal: stop.signal }).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'interrupted', costUsd: 0 });
    expect(first.summary.cost_usd).toBe(0);

    const again = await startRun(manifest, cacheDir, fake).done;
    expect(again.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(again.seen.some((e) => e.type === 'progress' && /submit whose answer was lost/.test(e.status))).toBe(false);
    expect(again.result.schedule.scenes[0].note).toBeUndefined();
    expect(fake.submissions).toHaveLength(1);
  });
});
