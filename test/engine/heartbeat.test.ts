/**
 * Every write of a run, the lease heartbeat included, ends in the clean
 * E_CACHE stop when the cache cannot be written (disk full): never an
 * uncaught exception with a stack trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../pipeline/errors.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { PollResult, Provider } from '../../pipeline/providers/types.ts';
import { schedule } from '../../pipeline/schedule/index.ts';
import { episode, media, scene, series } from '../helpers/series.ts';
import { withRenders } from '../helpers/store.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});


/** A provider whose renders take a while, so the heartbeat fires mid-run. */
function slowProvider(): Provider {
  return {
    info: PROVIDERS.local,
    submit: async () => ({ predictionId: 'p' }),
    poll: async (): Promise<PollResult> => ({ status: 'processing' }),
    wait: (_id, _task, { signal } = {}) =>
      new Promise<PollResult>((resolve, reject) => {
        const t = setTimeout(() => resolve({ status: 'failed', error: 'never finishes in this test' }), 5_000);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      }),
    download: async () => {
      throw new Error('not reached');
    },
  };
}

describe('disk full under a running schedule', () => {
  it('a heartbeat that cannot write stops the run with E_CACHE (no uncaught error or unhandled rejection)', async () => {
    // The store as it behaves once the disk fills: the heartbeat's write fails as the store reports it.
    let renewals = 0;
    const store = withRenders(await openStore({ dir: ':memory:', leaseMs: 90 }), {
      renew: async () => {
        renewals++;
        throw new StoreError('database or disk is full', ':memory:');
      },
    }); // heartbeat every 30 ms
    const p = plan({ series: series([episode('e', [scene('e', 'a')])]), media: media(), provider: PROVIDERS.local });
    const clipsDir = mkdtempSync(path.join(tmpdir(), 'dl-heartbeat-'));
    dirs.push(clipsDir);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    try {
      const run = schedule({ plan: p, provider: slowProvider(), store, runId: await store.ledger.start({ provider: 'local', args: [], plannedUsd: 0 }), events: new RunEvents(), clipsDir });
      await expect(run).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringMatching(/disk is full/) });
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
    expect(renewals).toBeGreaterThan(0);
    expect(uncaught).toEqual([]);
  });
});
