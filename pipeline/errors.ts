/**
 * Every error of the library, in one place (as undici's `lib/core/errors.js`):
 * one base class, a stable `code` (scripts match on it); `message` says what
 * and where; the original error rides as `cause`. Only `cli.ts` turns codes
 * into exit codes.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_MANIFEST'
  | 'E_INPUT'
  | 'E_BALANCE'
  | 'E_PRICE'
  | 'E_API'
  | 'E_AUTH'
  | 'E_FFMPEG'
  | 'E_CACHE'
  /** The shared clip store (S3) refused, could not be reached, or holds another clip under a key. */
  | 'E_STORE'
  | 'E_DEADLINE'
  | 'E_HELD'
  | 'E_REFUSED'
  | 'E_ABORTED'
  | 'E_INTERNAL';

export class DuologueError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DuologueError';
    this.code = code;
  }
}

/**
 * The provider delivered something unusable, or nothing any more (expired
 * output, truncated or wrong file): retrying the same prediction cannot help,
 * only a new render can.
 */
export class OutputError extends DuologueError {
  /** How long the refused clip was, when it could be read (it was billed by that length). */
  readonly deliveredSeconds?: number;
  /**
   * The bytes could not be had (the output host answered 404, or an error
   * page instead of an mp4): the render itself may be fine, so the prediction
   * is kept and fetched again later. False: a readable clip that is wrong
   * (length, missing stream): only a new render can help.
   */
  readonly unavailable: boolean;
  constructor(message: string, options?: { cause?: unknown; deliveredSeconds?: number; unavailable?: boolean }) {
    super('E_API', message, options);
    this.name = 'OutputError';
    this.deliveredSeconds = options?.deliveredSeconds;
    this.unavailable = options?.unavailable ?? false;
  }
}

/** The provider does not know the prediction (deleted after its retention, or a wrong id was attached). */
export class PredictionGoneError extends DuologueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_API', message, options);
    this.name = 'PredictionGoneError';
  }
}

/**
 * A submit that ended with proof that no task was created at the provider:
 * nothing can have been billed, so the key is not left "maybe billed". The
 * scheduler asks `instanceof TaskNotCreatedError`, not which error it is.
 */
export class TaskNotCreatedError extends DuologueError {
  readonly taskNotCreated = true;
}

/**
 * A submit whose request was not written by its send deadline (the process
 * was paused, a connection was slow to open): it was cut before its first
 * byte left, so no task can exist. The submit is marked again (under its
 * claim's fencing token) before another attempt; a worker that lost its
 * claim meanwhile sends nothing.
 */
export class SendWindowMissedError extends TaskNotCreatedError {
  constructor(message: string) {
    super('E_API', message);
    this.name = 'SendWindowMissedError';
  }
}

/**
 * A submit whose answer was lost after the request was sent (a reset, a 5xx,
 * an unreadable body): the task may have been created and billed, so it is
 * not sent again blindly.
 */
export class AmbiguousSubmitError extends DuologueError {
  readonly ambiguous = true;
}

/**
 * A stop that came while a submit was between attempts, after an answer that
 * proved no task was created (a 429, a refused connection): nothing can have
 * been billed.
 */
export class StoppedBeforeTaskError extends TaskNotCreatedError {
  constructor(options?: { cause?: unknown }) {
    super('E_ABORTED', 'aborted before the task was created', options);
    this.name = 'StoppedBeforeTaskError';
  }
}

/**
 * The provider refused a submit because the account cannot pay for it
 * (HTTP 402): no task was created. The run submits nothing more; what is in
 * flight is still collected.
 */
export class InsufficientBalanceError extends TaskNotCreatedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BALANCE', message, options);
    this.name = 'InsufficientBalanceError';
  }
}

/** A submit still refused with 429 at its deadline: no task was created, nothing billed. */
export class RateLimitedError extends TaskNotCreatedError {
  constructor(message: string) {
    super('E_DEADLINE', message);
  }
}

/** A definite HTTP answer that is not retried (4xx other than 401/403/429). */
export class HttpStatusError extends DuologueError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('E_API', message);
  }
}

/** This run lost its claim before the paid request (paused or slow past its lease); nothing was sent. */
export class ClaimLostError extends DuologueError {
  constructor(key: string) {
    super('E_CACHE', `the claim on ${key.slice(0, 12)} was taken over by another run before the submit; not submitted`);
  }
}

/** Nothing was sent, and nothing will be this run (the account ran out of money meanwhile). */
export class NotSubmittedError extends DuologueError {
  constructor(readonly reason: string) {
    super('E_BALANCE', `not submitted: ${reason}`);
  }
}

/**
 * The cache's state could not be read or written (disk full, I/O error, a
 * lock held too long): E_CACHE, saying where. Every backend turns its
 * driver's errors into this, so the rest of duologue stops cleanly on it
 * without knowing which driver failed.
 */
export class StoreError extends DuologueError {
  constructor(
    /** The driver's own words ("database or disk is full"). */
    readonly detail: string,
    location: string,
    options?: { cause?: unknown; code?: 'E_CACHE' | 'E_STORE' },
  ) {
    const full = /disk is full|SQLITE_FULL|ENOSPC/i.test(detail) ? ' (the disk is full: free space or move --cache-dir)' : '';
    super(options?.code ?? 'E_CACHE', `the cache database in ${location} could not be written: ${detail}${full}`, options);
  }
}

/**
 * The cache's database server could not be reached, or dropped the
 * connection (refused, reset, shut down): E_STORE (the shared store is
 * away, not this machine's cache broken), naming the server as
 * `host:port/database`, never with its password. Still a StoreError: the run
 * stops on it as on any store failure, and the next run resumes.
 */
export class StoreUnreachableError extends StoreError {
  constructor(detail: string, server: string, options?: { cause?: unknown }) {
    super(detail, server, { ...options, code: 'E_STORE' });
    this.message = `the cache database at ${server} cannot be reached: ${detail}`;
  }
}

/** Any error of a store call as E_CACHE (a DuologueError is already one of ours, and kept). */
export function cacheError(error: unknown, location: string): DuologueError {
  if (error instanceof DuologueError) return error;
  return new StoreError((error as Error)?.message ?? String(error), location, { cause: error });
}

/** The driver's words for a store failure, else the error's message. */
export function failureDetail(error: unknown): string {
  return error instanceof StoreError ? error.detail : ((error as Error)?.message ?? String(error));
}

/** A child that ran past its timeout and was killed. */
export class FfmpegTimeoutError extends DuologueError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('E_FFMPEG', `${what} did not finish within ${seconds(timeoutMs)} and was killed`);
    this.name = 'FfmpegTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${Number((ms / 1000).toFixed(2))} s` : `${Math.round(ms / 1000)} s`;
}

/** A problem found in a manifest or its inputs, positioned in the source. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: ErrorCode;
  file: string;
  line?: number;
  col?: number;
  /** `episode/scene`, `episode`, or undefined for manifest-level problems. */
  where?: string;
  message: string;
}

/** Renders `file:LINE:COL episode/scene: message` (parts omitted when unknown). */
export function formatDiagnostic(d: Diagnostic): string {
  let at = d.file;
  if (d.line !== undefined) at += `:${d.line}:${d.col ?? 1}`;
  return `${at}${d.where ? ` ${d.where}` : ''}: ${d.message}`;
}

/** Every error of a load at once: thrown only when at least one error exists. */
export class ManifestErrors extends DuologueError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const code = errors.every((d) => d.code === 'E_INPUT') ? 'E_INPUT' : 'E_MANIFEST';
    super(code, `${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map(formatDiagnostic).join('\n')}`);
    this.name = 'ManifestErrors';
    this.diagnostics = diagnostics;
  }
}

export function isAbort(error: unknown): boolean {
  return (
    (error instanceof DuologueError && error.code === 'E_ABORTED') ||
    (error instanceof Error && error.name === 'AbortError')
  );
}

/** The error every stopped call throws (`cause`: the signal's reason, or what the stopped call threw). */
export function abortError(signal?: AbortSignal, cause: unknown = signal?.reason): DuologueError {
  return new DuologueError('E_ABORTED', 'aborted', { cause });
}

/** A URL's password as `***` (`postgres://u:***@host/db`): URLs are printed in errors, reports and logs. */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@');
}
