/**
 * What the cache says at each instant of a submit, as a kill -9 would find
 * it: "maybe billed" only while a request that may create a task is open,
 * the run's books carrying the hold from that moment, and the new task's id
 * never lost, even when the cache cannot be written.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../pipeline/errors.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { PollResult, Provider } from '../../pipeline/providers/types.ts';
import { schedule } from '../../pipeline/schedule/index.ts';
import { until } from '../helpers/engine.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';
import { episode, media, scene, series } from '../helpers/series.ts';
import { withRenders } from '../helpers/store.ts';

const project = fakeProjects();
const setup = () => project([sceneYaml('a', 2.5, 1)]);

/** Reads the cache as another process (or the next run after a kill -9) would. */
function peek(cacheDir: string) {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    const render = db.prepare('SELECT status, prediction_id FROM renders').get() as { status: string; prediction_id: string | null } | undefined;
    const run = db.prepare('SELECT spent_usd FROM runs ORDER BY id DESC LIMIT 1').get() as { spent_usd: number } | undefined;
    return { status: render?.status, spent: run?.spent_usd };
  } finally {
    db.close();
  }
}

describe('the cache at each instant of a submit', () => {
  it('waiting to retry after a 429 (no task exists) is not "maybe billed": a stop there leaves nothing for a person', async () => {
    const { fake, manifest, cacheDir } = await setup();
    fake.script('submit', { kind: 'status', status: 429, retryAfter: '3' });
    const stop = new AbortController();
    const run = startRun(manifest, cacheDir, fake, { signal: stop.signal, policy: { retryAfterMaxMs: 5_000 } });
    await until(() => run.seen.some((e) => e.type === 'retry'), 'the 429 and its wait');
    expect(peek(cacheDir)).toMatchObject({ status: 'pending' });
    stop.abort();
    await run.done;
    const again = await startRun(manifest, cacheDir, fake).done;
    expect(again.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(fake.submissions).toHaveLength(1);
  });

  it('while the submit request is open, the run’s books already carry its hold (a kill -9 there still shows the money)', async () => {
    const { fake, manifest, cacheDir } = await setup();
    fake.script('submit', { kind: 'slow', ms: 1_500 });
    const run = startRun(manifest, cacheDir, fake);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path.endsWith('/infinitetalk/multi')), 'the submit request');
    expect(peek(cacheDir)).toMatchObject({ status: 'submitting', spent: 0.15 });
    const done = await run.done;
    expect(done.summary.cost_usd).toBe(0.15);
    expect(peek(cacheDir)).toMatchObject({ status: 'complete', spent: 0.15 });
  });

  it('disk full right after the answer: the run stops with E_CACHE naming the new prediction and how to attach it', async () => {
    // The disk fills right after the answer: recording the new id fails as the store reports it.
    const store = withRenders(await openStore({ dir: ':memory:' }), {
      markInFlight: async () => {
        throw new StoreError('database or disk is full', ':memory:');
      },
    });
    const p = plan({ series: series([episode('e', [scene('e', 'a')])]), media: media(), provider: PROVIDERS.wavespeed });
    const provider: Provider = {
      info: PROVIDERS.wavespeed,
      submit: async (_task, { onSubmitting } = {}) => {
        await onSubmitting?.({ model: 'm', at: 0, body: {} });
        return { predictionId: 'pred-77' };
      },
      poll: async (): Promise<PollResult> => ({ status: 'processing' }),
      wait: async (): Promise<PollResult> => ({ status: 'processing' }),
      download: async () => {
        throw new Error('not reached');
      },
    };
    const events = new RunEvents();
    const seen: RunEvent[] = [];
    events.on('event', (e) => seen.push(e));
    const clipsDir = mkdtempSync(path.join(tmpdir(), 'dl-submit-full-'));
    const runId = await store.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0.3 });
    await expect(schedule({ plan: p, provider, store, runId, events, clipsDir })).rejects.toMatchObject({
      code: 'E_CACHE',
      message: expect.stringMatching(/prediction pred-77 was created but could not be recorded \(database or disk is full\); once .*duologue cache attach [0-9a-f]{12} pred-77/),
    });
    expect(seen).toContainEqual(expect.objectContaining({ type: 'submitted', predictionId: 'pred-77' }));
  });
});
