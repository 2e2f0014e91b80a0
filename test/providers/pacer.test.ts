import { describe, expect, it } from 'vitest';
import { SubmitPacer, type Clock, type PacerOptions } from '../../pipeline/providers/wavespeed/pacer.ts';

/** A clock that moves only when told: no timing in these tests. */
function manualClock() {
  let t = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => t,
    setTimer: (fn, ms) => {
      const timer = { at: t + ms, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((x) => x !== timer);
      };
    },
  };
  const advance = async (ms: number) => {
    const end = t + ms;
    for (;;) {
      const next = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      t = Math.max(t, next.at);
      timers = timers.filter((x) => x !== next);
      next.fn();
      await flush();
    }
    t = end;
    await flush();
  };
  return { clock, advance };
}

const flush = () => new Promise((r) => setImmediate(r));

function pacer(over: Partial<PacerOptions>, clock: Clock) {
  return new SubmitPacer({ startsPerWindow: 2, maxInFlight: 100, adaptive: false, windowMs: 1000, windowSlack: 0, maxStartsPerWindow: 5000, growth: 0.1, clock, ...over });
}

describe('SubmitPacer', () => {
  it('lets at most N starts through in any window, first come first served', async () => {
    const { clock, advance } = manualClock();
    const p = pacer({ startsPerWindow: 2 }, clock);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) void p.acquire().then((permit) => (permit.sent(), got.push(i)));
    await flush();
    expect(got).toEqual([0, 1]);
    await advance(999);
    expect(got).toEqual([0, 1]);
    await advance(2);
    expect(got).toEqual([0, 1, 2, 3]);
    await advance(1000);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('a start counts from its answer (the API saw it no later), so a slow answer never lets the next window overfill', async () => {
    const { clock, advance } = manualClock();
    const p = pacer({ startsPerWindow: 1 }, clock);
    const a = await p.acquire();
    a.sent();
    await advance(400); // the answer took 400 ms
    a.answered();
    let next = false;
    void p.acquire().then(() => (next = true));
    await advance(999);
    expect(next).toBe(false);
    await advance(1);
    expect(next).toBe(true);
  });

  it('holds submits while the tasks in flight are at the cap; an ended task makes room', async () => {
    const { clock } = manualClock();
    const p = pacer({ startsPerWindow: 100, maxInFlight: 2 }, clock);
    const a = await p.acquire();
    await p.acquire();
    let third = false;
    void p.acquire().then(() => (third = true));
    await flush();
    expect(third).toBe(false);
    a.end();
    a.end(); // idempotent
    await flush();
    expect(third).toBe(true);
  });

  it("a 429's Retry-After pauses every submit; the refused attempt is not counted as a start", async () => {
    const { clock, advance } = manualClock();
    const p = pacer({ startsPerWindow: 2 }, clock);
    const a = await p.acquire();
    a.sent();
    a.refused(500);
    let next = false;
    void p.acquire().then(() => (next = true));
    await advance(499);
    expect(next).toBe(false);
    await advance(1);
    expect(next).toBe(true);
    expect(p.busy).toBe(false); // the refused one left its place: one more fits this window
  });

  it('auto: slows to what the window let through on a 429, grows again after calm windows', async () => {
    const { clock, advance } = manualClock();
    const p = pacer({ startsPerWindow: 4, adaptive: true }, clock);
    const permits = await Promise.all([p.acquire(), p.acquire(), p.acquire(), p.acquire()]);
    permits.forEach((x) => x.sent());
    permits[2].refused();
    permits[3].refused(); // sent under the old limit: does not slow it twice
    expect(p.startsPerWindow).toBe(2);
    // Keep it saturated for a few windows without 429s: it grows by at least one per window.
    for (let w = 0; w < 3; w++) {
      void p.acquire();
      void p.acquire();
      void p.acquire();
      await advance(1001);
    }
    expect(p.startsPerWindow).toBeGreaterThan(2);
  });

  it('a stop while waiting rejects cleanly (no task was created)', async () => {
    const { clock } = manualClock();
    const p = pacer({ startsPerWindow: 1 }, clock);
    await p.acquire();
    const stop = new AbortController();
    const waiting = p.acquire(stop.signal);
    stop.abort();
    await expect(waiting).rejects.toMatchObject({ taskNotCreated: true });
  });
});
