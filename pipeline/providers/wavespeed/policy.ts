/**
 * Every retry, backoff, poll and timeout number of the WaveSpeed client, in
 * one block. Tests pass smaller ones; nothing else hard-codes a delay.
 */
export interface WavespeedPolicy {
  /**
   * Attempts per call, first included (429, 5xx and network errors). A submit's
   * 429s do not count: it retries those until the scene's deadline.
   */
  maxAttempts: number;
  /** Exponential backoff: base × factor^(attempt-1), capped, then ± jitter. */
  backoffBaseMs: number;
  backoffFactor: number;
  backoffMaxMs: number;
  /** Fraction of the delay drawn at random either way (spreads a herd of retries). */
  jitter: number;
  /** A Retry-After longer than this is capped (a broken header must not stall a run for hours). */
  retryAfterMaxMs: number;
  /** Poll schedule: shortest wait (WaveSpeed asks for no faster than every 5 s), growth, cap. */
  pollInitialMs: number;
  pollFactor: number;
  pollMaxMs: number;
  /**
   * A new task's first poll waits this long per second of video: InfiniteTalk takes 10–30 s
   * per video second, so an earlier look can only say "processing".
   */
  firstPollPerVideoSecondMs: number;
  /** Per-scene deadline: fixed part + per second of video (queueing + 30 s/s processing, with room). */
  deadlineBaseMs: number;
  deadlinePerVideoSecondMs: number;
  /** Socket timeouts (undici Agent). */
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Sockets kept per origin; requests past it wait for one (see agent.ts). */
  connectionsPerOrigin: number;
  /** How long an uploaded file's URL is reused. */
  uploadTtlMs: number;
  /** WaveSpeed deletes predictions and their outputs after 7 days (docs). */
  predictionRetentionMs: number;
  /**
   * A submit whose answer was lost is looked up in the prediction list:
   * the window is widened by this much either way (clock skew), read this
   * many items a page, at most this many pages.
   */
  lostAnswerSkewMs: number;
  lostAnswerPageSize: number;
  lostAnswerMaxPages: number;
  /** Not listed: looked up again after this long (the list may lag) before it may be resubmitted. */
  lostAnswerRecheckMs: number;
  /** And not before the submit's request could no longer be in flight (headers timeout, with room). */
  lostAnswerWindowMs: number;
  /** The window an account level's "videos started per minute" counts in (tests scale it down). */
  rateWindowMs: number;
  /** Added to that window, as a fraction of it: our clock and the API's see a request at slightly different times. */
  rateWindowSlack: number;
  /** Tier `auto`, after its first 429: the per-window limit grows by this fraction per calm window (doubles before it). */
  rateGrowth: number;
}

export const DEFAULT_POLICY: WavespeedPolicy = {
  maxAttempts: 6,
  backoffBaseMs: 1_000,
  backoffFactor: 2,
  backoffMaxMs: 30_000,
  jitter: 0.25,
  retryAfterMaxMs: 120_000,
  pollInitialMs: 5_000,
  pollFactor: 1.5,
  pollMaxMs: 15_000,
  firstPollPerVideoSecondMs: 10_000,
  deadlineBaseMs: 15 * 60_000,
  deadlinePerVideoSecondMs: 90_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
  connectionsPerOrigin: 32,
  uploadTtlMs: 24 * 60 * 60_000,
  predictionRetentionMs: 7 * 24 * 60 * 60_000,
  lostAnswerSkewMs: 5 * 60_000,
  lostAnswerPageSize: 100,
  lostAnswerMaxPages: 20,
  lostAnswerRecheckMs: 60_000, // issue 11: two looks at least 60 s apart
  lostAnswerWindowMs: 90_000,
  // WaveSpeed's account levels count videos started per minute (tiers.ts).
  rateWindowMs: 60_000,
  rateWindowSlack: 0.005,
  rateGrowth: 0.1,
};

/** base × factor^(attempt-1), capped: the schedule before jitter (also used as is by loops outside `send`). */
export function baseBackoffMs(attempt: number, policy: WavespeedPolicy): number {
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * policy.backoffFactor ** (attempt - 1));
}

export function backoffMs(attempt: number, policy: WavespeedPolicy, random: () => number): number {
  const raw = baseBackoffMs(attempt, policy);
  const spread = raw * policy.jitter;
  return Math.max(0, Math.round(raw - spread + random() * 2 * spread));
}

/** `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, in ms from now; undefined if absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number, policy: WavespeedPolicy): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  // Zero, or a date already past (a server clock behind ours), would mean retrying at once, over
  // and over: taken as no hint, so the normal backoff applies.
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(policy.retryAfterMaxMs, ms);
}

export function pollDelayMs(poll: number, policy: WavespeedPolicy): number {
  return Math.min(policy.pollMaxMs, policy.pollInitialMs * policy.pollFactor ** poll);
}

/** The wait before a new task's first poll: its expected processing time, never under the poll floor. */
export function firstPollDelayMs(videoSeconds: number, policy: WavespeedPolicy): number {
  return Math.max(policy.pollInitialMs, Math.round(videoSeconds * policy.firstPollPerVideoSecondMs));
}

/** Waits that `scaledPolicy` shrinks; socket timeouts and the provider's retention periods stay real. */
const SCALED_WAITS = [
  'backoffBaseMs', 'backoffMaxMs', 'retryAfterMaxMs', 'pollInitialMs', 'pollMaxMs', 'firstPollPerVideoSecondMs',
  'deadlineBaseMs', 'deadlinePerVideoSecondMs', 'lostAnswerRecheckMs', 'lostAnswerWindowMs', 'rateWindowMs',
] as const satisfies readonly (keyof WavespeedPolicy)[];

/**
 * The same schedule with every wait multiplied by `scale` (0 < scale ≤ 1), for a local test
 * server whose tasks finish in milliseconds. Socket timeouts keep a floor of 2 s, a scene's
 * deadline one of 30 s, and a lost answer is still not given up on before such a request
 * could have arrived.
 */
export function scaledPolicy(scale: number, base: WavespeedPolicy = DEFAULT_POLICY): WavespeedPolicy {
  const policy = { ...base };
  for (const key of SCALED_WAITS) policy[key] = Math.max(1, Math.round(base[key] * scale));
  policy.connectTimeoutMs = Math.max(2_000, Math.round(base.connectTimeoutMs * scale));
  policy.headersTimeoutMs = Math.max(2_000, Math.round(base.headersTimeoutMs * scale));
  policy.bodyTimeoutMs = Math.max(2_000, Math.round(base.bodyTimeoutMs * scale));
  policy.lostAnswerWindowMs = Math.max(policy.lostAnswerWindowMs, Math.round(policy.headersTimeoutMs * 1.25));
  // A test server still spends real time rendering (ffmpeg): a scaled deadline must not cut that short.
  policy.deadlineBaseMs = Math.max(30_000, policy.deadlineBaseMs);
  return policy;
}

export function deadlineFor(videoSeconds: number, policy: WavespeedPolicy): number {
  return policy.deadlineBaseMs + videoSeconds * policy.deadlinePerVideoSecondMs;
}
