import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAccountWindow, type AccountWindow } from '../../pipeline/cache/submit-window.ts';
import { StoppedBeforeTaskError } from '../../pipeline/errors.ts';
import { SharedSubmitPacer, blockFor } from '../../pipeline/providers/wavespeed/shared-pacer.ts';
import { realSleep } from '../../pipeline/sleep.ts';

const W = 1_000;

/** A virtual clock: sleeping moves it on (no real waits). */
function clock() {
  const c = {
    t: 1_000_000,
    now: () => c.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      c.t += ms;
    },
  };
  return c;
}

async function window(limit: number, windowMs = W): Promise<AccountWindow> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-pacer-'));
  return (await openAccountWindow({ dir, account: 'acct', limit, windowMs }))!;
}

function pacer(w: AccountWindow, c: ReturnType<typeof clock>, over: Partial<ConstructorParameters<typeof SharedSubmitPacer>[0]> = {}) {
  return new SharedSubmitPacer({ window: w, block: 1, maxInFlight: 100, holdMs: 100, marginMs: 100, now: c.now, sleep: c.sleep, ...over });
}

describe('SharedSubmitPacer', () => {
  it('two pacers on one account never start more than the limit in any window', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-pacer-'));
    const c = clock();
    const open = async () => (await openAccountWindow({ dir, account: 'acct', limit: 3, windowMs: W }))!;
    const a = pacer(await open(), c, { block: 2 });
    const b = pacer(await open(), c, { block: 2 });
    const starts: number[] = [];
    for (let i = 0; i < 12; i++) {
      const permit = await (i % 2 ? b : a).acquire();
      permit.sent();
      starts.push(c.t);
      permit.end();
    }
    for (const s of starts) expect(starts.filter((t) => t >= s && t < s + W - 100).length).toBeLessThanOrEqual(3);
    // It did move on: 12 starts at 3 per window take at least three more windows.
    expect(c.t - starts[0]).toBeGreaterThanOrEqual(3 * (W - 100));
    await a.close();
    await b.close();
  });

  it('takes slots in blocks: one transaction for several submits', async () => {
    const c = clock();
    const p = pacer(await window(100), c, { block: 5 });
    const permits = await Promise.all(Array.from({ length: 10 }, () => p.acquire()));
    expect(permits).toHaveLength(10);
    expect(p.stats.takes).toBeLessThanOrEqual(3);
    await p.close();
  });

  it('a 429 with Retry-After makes every pacer on the account wait', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-pacer-'));
    const c = clock();
    const open = async () => (await openAccountWindow({ dir, account: 'acct', limit: 10, windowMs: W }))!;
    const a = pacer(await open(), c);
    const b = pacer(await open(), c);
    const permit = await a.acquire();
    const refusedAt = c.t;
    permit.refused(5_000);
    await new Promise((r) => setTimeout(r, 20)); // the pause is written in the background
    await b.acquire();
    expect(c.t).toBeGreaterThanOrEqual(refusedAt + 5_000);
    await a.close();
    await b.close();
  });

  it('a refused or withdrawn start gives its slot back to the account', async () => {
    const c = clock();
    const w = await window(1, 1_000_000);
    const p = pacer(w, c);
    p.acquire().then((permit) => permit.withdrawn());
    await new Promise((r) => setTimeout(r, 20));
    const again = await p.acquire();
    expect(c.t).toBe(1_000_000); // no wait: the slot came back
    again.refused();
    await new Promise((r) => setTimeout(r, 20));
    await p.acquire();
    expect(c.t).toBe(1_000_000);
    await p.close();
  });

  it('a submit answered later than the margin counts from its answer, less the margin', async () => {
    const c = clock();
    const p = pacer(await window(1), c, { marginMs: 100 });
    const start = c.t;
    const permit = await p.acquire();
    permit.sent();
    c.t += 500; // a slow answer: the API may have seen the request only now
    permit.answered();
    permit.end();
    await new Promise((r) => setTimeout(r, 20)); // written in the background
    await p.acquire();
    expect(c.t).toBe(start + 400 + W);
    await p.close();
  });

  it('a stop while waiting rejects cleanly and takes nothing', async () => {
    const c = clock();
    const w = await window(1, 1_000_000);
    const p = new SharedSubmitPacer({ window: w, block: 1, maxInFlight: 1, holdMs: 100, marginMs: 100, now: c.now, sleep: c.sleep });
    await p.acquire();
    const controller = new AbortController();
    const waiting = p.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toBeInstanceOf(StoppedBeforeTaskError);
    await p.close();
  });

  it('waiters for the rate limit take turns: one sleeps per freed slot, not every waiter', async () => {
    // Real time (a 100 ms window): the waiters' sleeps overlap, as they do in a run.
    let sleeps = 0;
    const sleep = (ms: number, signal?: AbortSignal) => (sleeps++, realSleep(ms, signal));
    const windowMs = 100;
    const p = pacer(await window(2, windowMs), { t: 0, now: Date.now, sleep }, { now: Date.now, sleep, block: 2, holdMs: 10, marginMs: 10 });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const permit = await p.acquire();
        starts.push(Date.now());
        permit.end();
      }),
    );
    expect(starts).toHaveLength(20); // (the pace itself is checked on a virtual clock above)
    // 9 more windows: about one sleep each. Each waiter sleeping on its own made ~90 (18 + 16 + … + 2).
    expect(sleeps).toBeLessThanOrEqual(15);
    await p.close();
  });

  it('a stop while waiting its turn rejects that waiter only, and the line moves on', async () => {
    const c = clock();
    const p = pacer(await window(1, 1_000_000), c, { maxInFlight: 1 });
    const first = await p.acquire();
    const head = p.acquire(); // waits for room in flight, holding the turn
    const controller = new AbortController();
    const queued = p.acquire(controller.signal);
    const last = p.acquire();
    controller.abort(new Error('stop'));
    await expect(queued).rejects.toBeInstanceOf(StoppedBeforeTaskError);
    first.end();
    first.withdrawn(); // its slot back: the head can start
    (await head).end();
    (await last).end(); // the line went on past the stopped waiter
    await p.close();
  });

  it('unused slots go back on close, for other processes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-pacer-'));
    const c = clock();
    const open = async () => (await openAccountWindow({ dir, account: 'acct', limit: 4, windowMs: 1_000_000 }))!;
    const a = pacer(await open(), c, { block: 4, holdMs: 1_000_000 });
    await a.acquire(); // a block of 4 taken, 1 used
    await a.close();
    const other = await open();
    expect((await other.take(4, c.t)).slots).toHaveLength(3);
    await other.close();
  });

  it('blocks are 1 for Bronze and a few percent of larger limits', () => {
    expect(blockFor(2)).toBe(1);
    expect(blockFor(500)).toBe(25);
    expect(blockFor(5_000)).toBe(64);
  });
});
