/**
 * The fake's account level: at most `videosPerWindow` submits accepted in
 * any sliding window (the API's "videos started per minute", a minute scaled
 * down to `windowMs`); the rest get 429. Tasks processing at once are the
 * server's `maxConcurrent` (the rest wait in its queue, as the real API's do).
 *
 * The numbers are the fake's own copy of the docs' table, not duologue's.
 */
export interface AccountLimitOptions {
  videosPerWindow: number;
  /** A "minute". @default 60000 */
  windowMs?: number;
  /**
   * How a 429 says when to come back: `seconds` (whole seconds, like most
   * servers), `fraction` (decimal seconds, for scaled time), `none`.
   * @default 'fraction'
   */
  retryAfter?: 'seconds' | 'fraction' | 'none';
}

/** The docs' account levels: videos started per minute, tasks processing at once. */
export const FAKE_LEVELS = {
  bronze: { videosPerMinute: 2, concurrent: 2 },
  silver: { videosPerMinute: 500, concurrent: 300 },
  gold: { videosPerMinute: 3_000, concurrent: 3_000 },
  ultra: { videosPerMinute: 5_000, concurrent: 10_000 },
} as const;

export class AccountLimits {
  /** Accepted starts in the current window, oldest first. */
  private starts: number[] = [];
  private head = 0;
  refused = 0;
  accepted = 0;

  constructor(private readonly options: AccountLimitOptions) {}

  /** Admits a start now, or says why not: the headers of the 429 to send. */
  admit(now: number): { ok: true } | { ok: false; headers: Record<string, string> } {
    const window = this.options.windowMs ?? 60_000;
    while (this.head < this.starts.length && this.starts[this.head] <= now - window) this.head++;
    if (this.head > 1024) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    if (this.starts.length - this.head < this.options.videosPerWindow) {
      this.starts.push(now);
      this.accepted++;
      return { ok: true };
    }
    this.refused++;
    const waitMs = Math.max(1, this.starts[this.head] + window - now);
    const mode = this.options.retryAfter ?? 'fraction';
    if (mode === 'none') return { ok: false, headers: {} };
    return { ok: false, headers: { 'retry-after': mode === 'seconds' ? String(Math.ceil(waitMs / 1000)) : (waitMs / 1000).toFixed(3) } };
  }
}
