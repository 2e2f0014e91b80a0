/**
 * Paces submits against the account's window in the store, shared by every
 * process and machine on it (a tier's videos per minute belong to the
 * account, not to a run). Slots are taken in blocks — one transaction per
 * block, not per submit, since a transaction costs about a third of a
 * millisecond of CPU — handed out locally, and given back when unused for
 * `holdMs` or when a 429 proves a submit started nothing.
 *
 * Why `holdMs`: a slot counts in the store from when it was granted. A slot
 * used `h` ms later starts a task the store counts `h` ms early, so the
 * store's window is the API's plus the longest hold (see
 * {@link sharedWindowMs}); a slot held longer is given back and taken anew.
 */
import type { AccountWindow } from '../../cache/submit-window.ts';
import { StoppedBeforeTaskError } from '../../errors.ts';
import type { Sleep } from '../../sleep.ts';
import type { Permit } from './pacer.ts';

export interface SharedPacerOptions {
  /** The account's window (opened on first use when a promise: the provider is made before any submit). */
  window: AccountWindow | Promise<AccountWindow>;
  /** Slots asked for per transaction (1 for Bronze; a few percent of the limit above). */
  block: number;
  /** Tasks submitted and not yet final, in this process. */
  maxInFlight: number;
  /** A granted slot unused this long goes back to the account. */
  holdMs: number;
  /**
   * How much longer than the API's window the store counts a slot (slack and hold). A submit
   * answered later than this after its slot was granted moves its slot's start up to match.
   */
  marginMs: number;
  now: () => number;
  sleep: Sleep;
}

/** How long the store counts a slot: the API's window, its slack, and the longest a slot waits unused. */
export function sharedWindowMs(windowMs: number, slack: number, holdMs: number): number {
  return Math.ceil(windowMs * (1 + slack)) + holdMs;
}

/** Slots per transaction: 1 on small tiers, ~5% of the limit on large ones (at most 64). */
export function blockFor(startsPerWindow: number): number {
  return Math.max(1, Math.min(64, Math.floor(startsPerWindow * 0.05)));
}

interface Slot {
  id: number;
  takenAt: number;
}

export class SharedSubmitPacer {
  private slots: Slot[] = [];
  private closed = false;
  private inFlight = 0;
  private waiting = 0;
  private nextTryAt = 0;
  private refilling?: Promise<void>;
  private ended: Array<() => void> = [];
  /** Whether a waiter is looking for a slot; the others wait their turn in `turns`, in order. */
  private turnHeld = false;
  private turns: Array<() => void> = [];
  private returning = new Set<Promise<void>>();
  /** 429s seen, waits made and transactions taken, for reports and benchmarks. */
  readonly stats = { refused: 0, waited: 0, takes: 0 };

  private readonly window: Promise<AccountWindow>;

  constructor(private readonly options: SharedPacerOptions) {
    this.window = Promise.resolve(options.window);
    this.window.catch(() => {}); // a window that cannot open fails the first acquire, not the process
  }

  /** True when a submit asked now would have to wait. */
  get busy(): boolean {
    const now = this.options.now();
    return this.waiting > 0 || this.inFlight >= this.options.maxInFlight || (this.slots.length === 0 && now < this.nextTryAt);
  }

  /** Waits for a slot of the account's window and room in flight; a stop while waiting is a clean one. */
  async acquire(signal?: AbortSignal): Promise<Permit> {
    this.waiting++;
    let waited = false;
    let turn = false;
    try {
      if (signal?.aborted) throw new StoppedBeforeTaskError({ cause: signal.reason });
      // One waiter at a time sleeps, refills and waits for room; the rest wait their turn. Each
      // sleeping on its own woke every waiter at each freed slot (~50 waiters × 500 slots a minute at
      // Silver): a timer, a promise and a listener each time, the bulk of a run's medium-lived garbage.
      const queued = this.takeTurn(signal);
      if (queued) {
        waited = true;
        await queued;
      }
      turn = true;
      for (;;) {
        if (signal?.aborted) throw new StoppedBeforeTaskError({ cause: signal.reason });
        if (this.closed) throw new StoppedBeforeTaskError();
        const now = this.options.now();
        this.dropStale(now);
        if (this.inFlight >= this.options.maxInFlight) {
          waited = true;
          await this.untilEnd(signal);
          continue;
        }
        const slot = this.slots.shift();
        if (slot) return this.admit(slot);
        if (now < this.nextTryAt) {
          waited = true;
          await this.options.sleep(this.nextTryAt - now, signal);
          continue;
        }
        // One refill at a time: the others wait for it and share its block.
        this.refilling ??= this.refill(now).finally(() => (this.refilling = undefined));
        await this.refilling;
      }
    } catch (error) {
      if (signal?.aborted && !(error instanceof StoppedBeforeTaskError)) throw new StoppedBeforeTaskError({ cause: signal.reason });
      throw error;
    } finally {
      if (turn) this.passTurn();
      this.waiting--;
      if (waited) this.stats.waited++;
    }
  }

  /** Undefined when the turn is free (now the caller's); else a promise of it, rejected on a stop. */
  private takeTurn(signal?: AbortSignal): Promise<void> | undefined {
    if (!this.turnHeld) {
      this.turnHeld = true;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.turns = this.turns.filter((f) => f !== given);
        reject(new StoppedBeforeTaskError({ cause: signal?.reason }));
      };
      const given = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.turns.push(given);
    });
  }

  /** Hands the turn to the next waiter in line (it stays held), or frees it. */
  private passTurn(): void {
    const next = this.turns.shift();
    if (next) next();
    else this.turnHeld = false;
  }

  /** Gives the unused slots back (another process may use them now) and closes the window. */
  async close(): Promise<void> {
    this.closed = true;
    this.giveBack(this.slots.splice(0).map((s) => s.id));
    await Promise.allSettled([...this.returning]);
    await (await this.window).close();
  }

  private async refill(now: number): Promise<void> {
    const want = Math.max(1, Math.min(this.options.block, this.waiting));
    this.stats.takes++;
    const grant = await (await this.window).take(want, now);
    for (const id of grant.slots) this.slots.push({ id, takenAt: now });
    if (grant.slots.length === 0) this.nextTryAt = grant.retryAt;
  }

  private dropStale(now: number): void {
    const stale = this.slots.filter((s) => now - s.takenAt >= this.options.holdMs);
    if (stale.length === 0) return;
    this.slots = this.slots.filter((s) => now - s.takenAt < this.options.holdMs);
    this.giveBack(stale.map((s) => s.id));
  }

  /** In the background: a failed give-back only keeps a slot counted until it ages out (safe). */
  private giveBack(ids: number[]): void {
    if (ids.length === 0) return;
    this.background(this.window.then((w) => w.giveBack(ids)));
  }

  /** A write close() waits for; a failed one only leaves a slot counted as it was. */
  private background(write: Promise<void>): void {
    const p = write.catch(() => {});
    this.returning.add(p);
    void p.finally(() => this.returning.delete(p));
  }

  private untilEnd(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.ended = this.ended.filter((f) => f !== done);
        reject(new StoppedBeforeTaskError({ cause: signal?.reason }));
      };
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.ended.push(done);
    });
  }

  private admit(slot: Slot): Permit {
    this.inFlight++;
    let flying = true;
    let counted = true;
    const end = () => {
      if (!flying) return;
      flying = false;
      this.inFlight--;
      this.ended.shift()?.();
    };
    const unstart = () => {
      if (!counted) return;
      counted = false;
      this.giveBack([slot.id]);
    };
    return {
      sent: () => {},
      answered: () => {
        // Rare (an answer slower than the margin, ~0.9 s on a real minute), so no transaction per submit.
        const late = this.options.now() - slot.takenAt - this.options.marginMs;
        if (late > 0) this.background(this.window.then((w) => w.touch(slot.id, slot.takenAt + late)));
      },
      withdrawn: () => {
        unstart();
        end();
      },
      refused: (retryAfterMs) => {
        this.stats.refused++;
        unstart();
        if (retryAfterMs !== undefined) {
          const until = this.options.now() + retryAfterMs;
          this.nextTryAt = Math.max(this.nextTryAt, until);
          this.background(this.window.then((w) => w.pause(until)));
        }
        end();
      },
      end,
    };
  }
}

/** The account-wide pacer for a known tier: its videos per minute shared through `window`. */
export function createSharedPacer(options: {
  videosPerMinute: number;
  maxInFlight: number;
  window: (windowMs: number) => Promise<AccountWindow>;
  windowMs: number;
  slack: number;
  now: () => number;
  sleep: Sleep;
}): SharedSubmitPacer {
  // Slots are taken as submits ask for them, so one rarely waits long unused; the store's window
  // grows by the hold, so it is kept short (0.2% of the window: 120 ms) to keep the pace near the tier's.
  const holdMs = Math.ceil(options.windowMs / 500);
  const windowMs = sharedWindowMs(options.windowMs, options.slack, holdMs);
  return new SharedSubmitPacer({
    window: options.window(windowMs),
    marginMs: windowMs - options.windowMs,
    block: blockFor(options.videosPerMinute),
    maxInFlight: options.maxInFlight,
    holdMs,
    now: options.now,
    sleep: options.sleep,
  });
}
