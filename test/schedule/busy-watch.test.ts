/**
 * The busy-key watch: all waited keys read in one call per poll; a waiter
 * woken exactly when a claim could get its key (complete, released, its
 * holder's lease lapsed), or after `maxPolls` whatever the row says; an
 * abort rejects every waiter.
 */
import { describe, expect, it } from 'vitest';
import type { RenderRow } from '../../pipeline/cache/interfaces.ts';
import { createBusyWatch } from '../../pipeline/schedule/busy-watch.ts';

const NOW = 1_000_000;
/** A row held by a live worker on another host (its lease runs until NOW + 30 s). */
const held = (key: string): RenderRow => ({ key, status: 'in-flight', owner: 'other-host:42:1:abcd', lease_until: NOW + 30_000 }) as RenderRow;

function fakeRenders(rows: Map<string, RenderRow>) {
  const reads: string[][] = [];
  return {
    reads,
    renders: {
      owner: 'this-host:1:1:self',
      getMany: async (keys: readonly string[]) => {
        reads.push([...keys].sort());
        return new Map([...rows].filter(([k]) => keys.includes(k)));
      },
    },
  };
}

/** A sleep the test steps: each poll waits for `tick()`. */
function steppedSleep() {
  const pending: (() => void)[] = [];
  return {
    sleep: (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        pending.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    tick: async () => {
      pending.shift()?.();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

describe('busy watch', () => {
  it('reads every waited key in one call per poll and wakes each key only once a claim could get it', async () => {
    const rows = new Map(['k1', 'k2', 'k3', 'k4'].map((k) => [k, held(k)]));
    const { renders, reads } = fakeRenders(rows);
    const clock = { now: NOW };
    const s = steppedSleep();
    const watch = createBusyWatch({ renders, sleep: s.sleep, pollMs: 1_000, now: () => clock.now, signal: new AbortController().signal });
    const woken: string[] = [];
    for (const k of ['k1', 'k2', 'k3', 'k4']) void watch.until(k).then(() => woken.push(k));

    await s.tick();
    expect(reads).toEqual([['k1', 'k2', 'k3', 'k4']]);
    expect(woken).toEqual([]);

    rows.set('k1', { ...held('k1'), status: 'complete', owner: null } as RenderRow); // done by its holder
    rows.set('k2', { ...held('k2'), owner: null }); // released
    await s.tick();
    expect(woken.sort()).toEqual(['k1', 'k2']);
    expect(reads.at(-1)).toEqual(['k1', 'k2', 'k3', 'k4']);

    clock.now = NOW + 30_001; // k3's and k4's holder stopped renewing: their leases lapsed
    rows.set('k4', { ...held('k4'), lease_until: NOW + 60_000 }); // k4's holder renewed
    await s.tick();
    expect(woken.sort()).toEqual(['k1', 'k2', 'k3']);
    expect(reads.at(-1)).toEqual(['k3', 'k4']);
  });

  it('a row this rule does not foresee never stalls its key: woken after maxPolls', async () => {
    const { renders, reads } = fakeRenders(new Map([['k1', held('k1')]]));
    const s = steppedSleep();
    const watch = createBusyWatch({ renders, sleep: s.sleep, pollMs: 1_000, now: () => NOW, signal: new AbortController().signal, maxPolls: 3 });
    let woken = false;
    void watch.until('k1').then(() => (woken = true));
    await s.tick();
    await s.tick();
    expect(woken).toBe(false);
    await s.tick();
    expect(woken).toBe(true);
    expect(reads).toHaveLength(3);
  });

  it('an abort rejects every waiter, and later ones at once', async () => {
    const { renders } = fakeRenders(new Map([['k1', held('k1')], ['k2', held('k2')]]));
    const s = steppedSleep();
    const stop = new AbortController();
    const watch = createBusyWatch({ renders, sleep: s.sleep, pollMs: 1_000, now: () => NOW, signal: stop.signal });
    const waits = [watch.until('k1'), watch.until('k2')];
    stop.abort(new Error('stopped'));
    for (const w of waits) await expect(w).rejects.toThrow('stopped');
    await expect(watch.until('k1')).rejects.toThrow('stopped');
  });
});
