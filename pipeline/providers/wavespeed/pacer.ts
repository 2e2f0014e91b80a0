/**
 * Paces submits for the whole run: at most `limit` starts in any sliding
 * window, at most `maxInFlight` tasks between submit and final state, and
 * nobody sends while the API asked everyone to wait (a 429's Retry-After).
 *
 * A sliding window is the conservative reading of "videos per minute": a run
 * that never starts more than N in any window also never does in a calendar
 * minute. `auto` learns the limit: it starts at the run's concurrency, drops
 * to what the window held when a 429 arrives, and grows while none do (a
 * refused submit creates no task and costs nothing, so probing is safe).
 */
import { StoppedBeforeTaskError } from '../../errors.ts';

export interface Clock {
  now: () => number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer: (fn: () => void, ms: number) => () => void;
}

export const realClock: Clock = {
  now: Date.now,
  // Not unref'd: the timer is set only while a submit waits, and that submit is work the process
  // must stay alive for (it may be all that is left: Node then exited 13 mid-run). pump() cancels
  // it once nobody waits, so a stopped run does not linger for a window.
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export interface PacerOptions {
  /** Starts per window: the tier's, or where `adaptive` begins. */
  startsPerWindow: number;
  /** Tasks submitted and not yet final. */
  maxInFlight: number;
  /** Learn the limit from 429s (tier `auto`). */
  adaptive: boolean;
  /** The window the limit counts starts in (a minute; tests pass less). */
  windowMs: number;
  /** Added to the window as a fraction of it: our clock and the API's see a request at slightly different times. */
  windowSlack: number;
  /** `auto` never goes past this (the highest tier's limit). */
  maxStartsPerWindow: number;
  /** `auto`, after its first 429: grow by this fraction of the limit per calm window (at least 1). */
  growth: number;
  clock?: Clock;
}

/** One submit attempt's place in the window and (once accepted) in flight. */
export interface Permit {
  /** The request goes out now: its start counts from here. */
  sent(): void;
  /**
   * The API answered (and did not refuse): the start is counted from now. The
   * API saw the request between `sent` and its answer, so counting from the
   * answer never counts fewer starts in a window than the API does, whatever
   * the network's delays.
   */
  answered(): void;
  /** The API answered 429: no task, not a start; everyone waits `retryAfterMs` when given. */
  refused(retryAfterMs?: number): void;
  /** The request never reached the API (refused connection): not a start. */
  withdrawn(): void;
  /** No longer in flight (final, failed, or the submit ended without a task). Idempotent. */
  end(): void;
}

interface Start {
  at: number;
}

interface Waiter {
  resolve: (permit: Permit) => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class SubmitPacer {
  private limit: number;
  private readonly window: number;
  private readonly clock: Clock;
  private starts: Start[] = [];
  private inFlight = 0;
  private pausedUntil = 0;
  private waiters: Waiter[] = [];
  private cancelTimer?: () => void;
  private timerAt = Infinity;
  /** auto: bumped on each slow-down, so 429s of requests sent under the old limit do not slow it twice. */
  private generation = 0;
  private lastChange: number;
  private saturated = false;
  private seen429 = false;
  /** 429s seen and waits made, for reports and benchmarks. */
  readonly stats = { refused: 0, waited: 0 };

  constructor(private readonly options: PacerOptions) {
    this.clock = options.clock ?? realClock;
    this.limit = Math.max(1, Math.floor(options.startsPerWindow));
    this.window = Math.ceil(options.windowMs * (1 + options.windowSlack));
    this.lastChange = this.clock.now();
  }

  /** Starts allowed per window right now (learned, for `auto`). */
  get startsPerWindow(): number {
    return this.limit;
  }

  /** True when a submit asked now would have to wait. */
  get busy(): boolean {
    return this.waiters.length > 0 || !this.admissible(this.clock.now());
  }

  /** Waits for a place (first come, first served); a stop while waiting is a clean one. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(new StoppedBeforeTaskError({ cause: signal.reason }));
    if (this.waiters.length === 0 && this.admissible(this.clock.now())) return Promise.resolve(this.admit());
    this.stats.waited++;
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new StoppedBeforeTaskError({ cause: signal.reason }));
          this.pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private admissible(now: number): boolean {
    this.prune(now);
    if (now < this.pausedUntil || this.inFlight >= this.options.maxInFlight) return false;
    if (this.starts.length < this.limit) return true;
    this.saturated = true;
    this.maybeGrow(now);
    return this.starts.length < this.limit;
  }

  private admit(): Permit {
    const start: Start = { at: this.clock.now() };
    const generation = this.generation;
    this.starts.push(start);
    this.inFlight++;
    let counted = true;
    let flying = true;
    const dropStart = () => {
      if (!counted) return;
      counted = false;
      const i = this.starts.indexOf(start);
      if (i >= 0) this.starts.splice(i, 1);
    };
    const end = () => {
      if (!flying) return;
      flying = false;
      this.inFlight--;
      this.pump();
    };
    return {
      sent: () => {
        start.at = this.clock.now();
      },
      answered: () => {
        start.at = this.clock.now();
      },
      withdrawn: () => {
        dropStart();
        end();
      },
      refused: (retryAfterMs) => {
        this.stats.refused++;
        dropStart();
        const now = this.clock.now();
        if (retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
        if (this.options.adaptive) this.slowDown(now, generation === this.generation);
        end();
      },
      end,
    };
  }

  /**
   * auto: a 429 says the window held too many: keep no more than it holds now
   * (the refused start removed). The first 429 of a limit also lowers it by
   * at least one; later ones of requests sent under it only tighten it to
   * what the window holds.
   */
  private slowDown(now: number, firstOfLimit: boolean): void {
    this.prune(now);
    this.seen429 = true;
    this.limit = Math.max(1, Math.min(firstOfLimit ? this.limit - 1 : this.limit, this.starts.length));
    if (firstOfLimit) this.generation++;
    this.lastChange = now;
    this.saturated = false;
  }

  /** auto: a whole window went by without a 429 while the limit held submits back: allow more. */
  private maybeGrow(now: number): void {
    if (!this.options.adaptive || !this.saturated || now - this.lastChange < this.window) return;
    const more = this.seen429 ? Math.max(1, Math.ceil(this.limit * this.options.growth)) : this.limit; // doubles until the first 429
    this.limit = Math.min(this.options.maxStartsPerWindow, this.limit + more);
    this.lastChange = now;
    this.saturated = false;
  }

  private prune(now: number): void {
    const cutoff = now - this.window;
    let n = 0;
    while (n < this.starts.length && this.starts[n].at <= cutoff) n++;
    if (n > 0) this.starts.splice(0, n);
  }

  /** Admits waiters in order while there is room; otherwise sets one timer for when room may appear. */
  private pump(): void {
    const now = this.clock.now();
    while (this.waiters.length > 0 && this.admissible(now)) {
      const waiter = this.waiters.shift()!;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.admit());
    }
    if (this.waiters.length === 0) {
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.inFlight >= this.options.maxInFlight && now >= this.pausedUntil) return; // an end() will pump
    const wake = now < this.pausedUntil ? this.pausedUntil : (this.starts[0]?.at ?? now) + this.window;
    if (this.cancelTimer && this.timerAt <= wake) return;
    this.cancelTimer?.();
    this.timerAt = wake;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, wake - now));
  }
}
