/**
 * Group commit defers a transaction to the next turn of the event loop, so
 * things can happen between a job asking to mark its key "submitting" and
 * that write running: a Ctrl-C (a signal handler runs in the poll phase,
 * before the group's check phase), or another job's answer saying the
 * account has no money. Either one, landing in that gap, must still stop
 * the submit: the request is sent only on the state as it is when the
 * write runs. (Before group commit the write ran at once: there was no gap.)
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { createWavespeedProvider } from '../../pipeline/providers/wavespeed/provider.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { Budget } from '../../pipeline/schedule/budget.ts';
import { schedule } from '../../pipeline/schedule/index.ts';
import { runJob } from '../../pipeline/schedule/job.ts';
import { ffmpeg, KEY } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { fakeProjects, sceneYaml } from '../helpers/money.ts';

const setup = fakeProjects();

/** `store`, running `beforeFirst` synchronously when its first transaction is asked for (before that transaction's group runs). */
function onFirstTransaction(store: Store, beforeFirst: () => void): Store {
  let first = true;
  return {
    ...store,
    transaction: (fn) => {
      if (first) {
        first = false;
        beforeFirst();
      }
      return store.transaction(fn);
    },
  };
}

function statusOf(cacheDir: string): string | undefined {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return (db.prepare('SELECT status FROM renders').get() as { status: string } | undefined)?.status;
  } finally {
    db.close();
  }
}

describe('a stop that lands while the submit waits for its group', () => {
  it('Ctrl-C between asking to mark "submitting" and the group running: nothing is sent, the key is not left "maybe billed"', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
    const opened = await openStore({ dir: cacheDir });
    const info = PROVIDERS.wavespeed;
    const prepared = await prepare([manifest], { memo: opened.files, ffmpeg, prices: info.prices });
    const runId = await opened.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0.15 });
    const stop = new AbortController();
    // The first transaction of this run is the submit's "submitting" write (no scene is skipped).
    const store = onFirstTransaction(opened, () => stop.abort());
    const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: path.join(cacheDir, 'work'), uploads: opened.uploads('wavespeed'), policy: FAST_POLICY });
    try {
      const result = await schedule({ plan: plan({ ...prepared, provider: info }), provider, store, runId, events: new RunEvents(), clipsDir: path.join(cacheDir, 'clips'), signal: stop.signal, waitPollMs: 20 });
      expect(result.scenes.map((s) => s.outcome)).toEqual(['interrupted']);
    } finally {
      await provider.close?.();
      await opened.close();
    }
    expect(fake.submissions).toHaveLength(0);
    expect(statusOf(cacheDir)).not.toBe('submitting');
  });
  it('the account refused another submit for lack of money while this one waited for its group: nothing is sent', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
    const opened = await openStore({ dir: cacheDir });
    const info = PROVIDERS.wavespeed;
    const prepared = await prepare([manifest], { memo: opened.files, ffmpeg, prices: info.prices });
    const scene = plan({ ...prepared, provider: info }).episodes[0]!.scenes[0]!;
    const budget = new Budget(undefined);
    // What the scheduler does when another job's submit is answered 402 (refuseAll), landing in the gap.
    const store = onFirstTransaction(opened, () => (budget.refusal = 'insufficient balance'));
    const provider = createWavespeedProvider({ apiKey: KEY, baseUrl: fake.apiUrl, ffmpeg, workDir: path.join(cacheDir, 'work'), uploads: opened.uploads('wavespeed'), policy: FAST_POLICY });
    try {
      const outcome = await runJob(
        scene,
        {
          provider,
          store,
          budgetFor: () => budget,
          events: new RunEvents(),
          clipsDir: path.join(cacheDir, 'clips'),
          retryAmbiguous: false,
          retryHeld: false,
          now: Date.now,
          onCharged: async () => {},
          spend: () => {},
        },
        new AbortController().signal,
      );
      expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'insufficient balance' });
    } finally {
      await provider.close?.();
      await opened.close();
    }
    expect(fake.submissions).toHaveLength(0);
    expect(statusOf(cacheDir)).not.toBe('submitting');
  });
});
