import { request, type Dispatcher } from 'undici';
import { AmbiguousSubmitError, DuologueError, HttpStatusError, InsufficientBalanceError, RateLimitedError, SendWindowMissedError, StoppedBeforeTaskError, TaskNotCreatedError, abortError } from '../../errors.ts';
import type { Sleep } from '../../sleep.ts';
import { backoffMs, retryAfterMs, type WavespeedPolicy } from './policy.ts';
import { sendBefore, startDeadline } from './send-gate.ts';

/**
 * How a call may be retried:
 * - `idempotent`: uploads, polls, downloads: retry 429, 5xx and network errors;
 * - `submit`: creates a paid task: retry only when the failure proves no task
 *   was created (429, or no connection was ever made); anything else is
 *   ambiguous and is not retried.
 */
export type RetryMode = 'idempotent' | 'submit';

export interface HttpDeps {
  dispatcher: Dispatcher;
  sleep: Sleep;
  random: () => number;
  now: () => number;
  /** Monotonic ms, for send deadlines (counts across SIGSTOP). @default performance.now */
  monotonic?: () => number;
  policy: WavespeedPolicy;
  /** Called before each retry, for progress and logs. Never given the key. */
  onRetry?: (info: { label: string; attempt: number; delayMs: number; reason: string }) => void;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  /** Label for messages: `[POST] "https://…/multi"` plus the scene. */
  label: string;
  headers?: Record<string, string>;
  /** A fresh body per attempt (streams cannot be replayed). */
  body?: () => Dispatcher.DispatchOptions['body'] | Promise<Dispatcher.DispatchOptions['body']>;
  mode: RetryMode;
  /** Stops the call: no new attempt starts, a backoff wait ends; cuts an open request unless `requestSignal` is given. */
  signal?: AbortSignal;
  /** Cuts an open request (default: `signal`; `null`: nothing does). A submit sets it apart so a stop does not cut off the new task's id. */
  requestSignal?: AbortSignal | null;
  /**
   * Before each attempt is sent, awaited (a submit marks itself "maybe billed" here; a throw sends
   * nothing). Given the attempt's send deadline (epoch ms) when `sendWindowMs` is set.
   */
  beforeAttempt?: (sendBy?: number) => void | Promise<void>;
  /**
   * Each attempt's first byte leaves within this long of `beforeAttempt` starting, on the wall and the
   * monotonic clock, or the attempt is cut unsent (send-gate.ts) and, proven no task, tried again —
   * through `beforeAttempt` again, which checks the claim. @default no deadline
   */
  sendWindowMs?: number;
  /** A submit's answer proved no task was created and a retry will follow (after a wait). */
  onNoTask?: () => void | Promise<void>;
  /** Waits for the run's rate limiter before each attempt (before `beforeAttempt`). */
  pace?: (signal?: AbortSignal) => Promise<void>;
  /** A 429 arrived (with its Retry-After, when sent and readable). */
  onRateLimited?: (retryAfterMs: number | undefined) => void;
  /**
   * Submit only: 429s prove no task was created, so they are retried (outside
   * `maxAttempts`) until this epoch ms; past it the call ends with a
   * {@link RateLimitedError}. @default no 429 retries past `maxAttempts`
   */
  retryUntil?: number;
  /** Or: how long a submit may keep retrying 429s, counted from its first attempt actually sent (time waiting for the run's limiter does not count). */
  retryForMs?: number;
  /**
   * A redirect (3xx with a Location) is returned as is, body unread, for the
   * caller to follow: it decides each hop's headers (the key goes to the API's
   * origin only). @default false: a 3xx is an HttpStatusError
   */
  returnRedirects?: boolean;
}

/** Network error codes that prove the request never reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Network error codes worth retrying for idempotent calls (the request may or may not have arrived). */
const TRANSIENT = new Set([
  ...NEVER_SENT,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** Sends a call; on success returns the response with its body unread. Retries per `mode`. */
export async function send(call: HttpCall, deps: HttpDeps): Promise<Dispatcher.ResponseData> {
  const { policy } = deps;
  // A submit only starts another attempt after an answer proved no task was created, so a
  // stop between attempts is a clean one.
  const stopped = (signal: AbortSignal, cause?: unknown) => (call.mode === 'submit' ? new StoppedBeforeTaskError({ cause: cause ?? signal.reason }) : abortError(signal));
  // A submit's 429s are counted apart: they are retried until `retryUntil`, not `maxAttempts` times.
  let rateLimited = 0;
  let failures = 0;
  for (let attempt = 1; ; attempt++) {
    if (call.signal?.aborted) throw stopped(call.signal);
    if (call.pace) {
      try {
        await call.pace(call.signal);
      } catch (error) {
        if (call.signal?.aborted) throw stopped(call.signal, error);
        throw error;
      }
    }
    const clocks = { now: deps.now, monotonic: deps.monotonic ?? (() => performance.now()) };
    // Read before the claim is checked: the deadline is never later than the check's own start.
    const deadline = call.sendWindowMs !== undefined ? startDeadline(clocks, call.sendWindowMs) : undefined;
    await call.beforeAttempt?.(deadline && deadline.start.wall + deadline.windowMs);
    // The 429 deadline runs from the first request sent, not from the wait for a turn.
    if (call.retryForMs !== undefined && call.retryUntil === undefined) call.retryUntil = deps.now() + call.retryForMs;
    let retryReason: string;
    let waitMs: number | undefined;
    let limited = false;
    try {
      const res = await request(call.url, {
        method: call.method,
        headers: call.headers,
        body: await call.body?.(),
        dispatcher: deadline ? sendBefore(deps.dispatcher, deadline, clocks) : deps.dispatcher,
        signal: call.requestSignal === null ? undefined : (call.requestSignal ?? call.signal),
      });
      if (res.statusCode < 300) return res;
      if (call.returnRedirects && res.statusCode < 400 && res.headers.location) return res;
      const text = await readText(res).catch(() => '');
      const status = `${res.statusCode}${text ? `: ${snippet(text)}` : ''}`;
      // A refusal proves no task was created only if it names none: one that carries a task id may have been billed.
      if (call.mode === 'submit' && res.statusCode < 500 && res.statusCode !== 401 && res.statusCode !== 403 && namesTask(text)) {
        throw new AmbiguousSubmitError('E_API', `${call.label}: ${status} — refused, yet the answer names a task: it may have been created and billed, so it is not resubmitted this run`);
      }
      if (res.statusCode === 401 || res.statusCode === 403) {
        // The API's own words tell a key not yet activated from a suspended account (the key itself is redacted by the provider).
        const said = apiMessage(text);
        throw new DuologueError(
          'E_AUTH',
          `${call.label}: ${res.statusCode} — the API key was refused${said ? ` ("${said}")` : ''} (check WAVESPEED_API_KEY); stopping, every call would fail`,
        );
      }
      // Payment required: refused before any task was created.
      if (res.statusCode === 402) throw new InsufficientBalanceError(`${call.label}: ${status} — the WaveSpeed account's balance cannot pay for this; top up and run again`);
      if (res.statusCode === 429) {
        retryReason = '429 rate limited';
        waitMs = retryAfterMs(res.headers['retry-after'], deps.now(), policy);
        limited = call.mode === 'submit' && call.retryUntil !== undefined;
        call.onRateLimited?.(waitMs);
      } else if (res.statusCode >= 500) {
        if (call.mode === 'submit') {
          throw new AmbiguousSubmitError('E_API', `${call.label}: ${status} — the task may have been created and billed, so it is not resubmitted this run`);
        }
        retryReason = `${res.statusCode} server error`;
      } else {
        throw new HttpStatusError(res.statusCode, `${call.label}: ${status}`);
      }
    } catch (error) {
      const cut = call.requestSignal === null ? undefined : (call.requestSignal ?? call.signal);
      if (cut?.aborted) throw abortError(cut);
      // Cut before its first byte: proven no task, so it may be tried again (after the claim is checked anew).
      if (error instanceof SendWindowMissedError) retryReason = error.message;
      else retryReason = failureReason(call, error);
    }
    let delayMs: number;
    if (limited) {
      delayMs = waitMs ?? backoffMs(++rateLimited, policy, deps.random);
      if (deps.now() + delayMs > call.retryUntil!) {
        throw new RateLimitedError(`${call.label}: still rate limited (429) at the scene's deadline after ${attempt} attempts; no task was created, the next run submits it`);
      }
    } else {
      if (++failures >= policy.maxAttempts) {
        // Only an answer that proved no task was created reaches here in a submit: nothing can have been billed.
        if (call.mode === 'submit') throw new TaskNotCreatedError('E_API', `${call.label}: gave up after ${attempt} attempts (last: ${retryReason}); no task was created`);
        throw new DuologueError('E_API', `${call.label}: gave up after ${attempt} attempts (last: ${retryReason})`);
      }
      delayMs = waitMs ?? backoffMs(failures, policy, deps.random);
    }
    if (call.mode === 'submit') await call.onNoTask?.(); // only a proven no-task answer reaches a submit's retry
    deps.onRetry?.({ label: call.label, attempt, delayMs, reason: retryReason });
    try {
      await deps.sleep(delayMs, call.signal);
    } catch (error) {
      if (call.signal?.aborted) throw stopped(call.signal, error);
      throw error;
    }
  }
}

/** Why a request that threw (not an answer) may be retried; throws when it may not (a submit that may have reached the API). */
function failureReason(call: HttpCall, error: unknown): string {
  if (error instanceof DuologueError) throw error;
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code ?? '';
  const message = (error as Error).message;
  if (call.mode === 'submit' && !NEVER_SENT.has(code)) {
    throw new AmbiguousSubmitError(
      'E_API',
      `${call.label}: ${code || message} — the request may have reached the API, so the task may have been created and billed; it is not resubmitted this run`,
      { cause: error },
    );
  }
  if (!TRANSIENT.has(code)) throw new DuologueError('E_API', `${call.label}: ${code ? `${code} ` : ''}${message}`, { cause: error });
  return code || message;
}

/** Reads a JSON envelope `{code, message, data}`; malformed or code ≠ 200 → E_API. */
export async function readEnvelope<T>(res: Dispatcher.ResponseData, label: string): Promise<T> {
  const text = await readText(res).catch((error: unknown) => {
    throw new DuologueError('E_API', `${label}: ${(error as Error).message}`, { cause: error });
  });
  let json: { code?: unknown; message?: unknown; data?: unknown };
  try {
    json = JSON.parse(text);
  } catch {
    throw new DuologueError('E_API', `${label}: malformed JSON in the response (${snippet(text) || 'empty body'})`);
  }
  if (json === null || typeof json !== 'object') throw new DuologueError('E_API', `${label}: the response is not a JSON object`);
  if (json.code !== undefined && json.code !== 200) {
    throw new DuologueError('E_API', `${label}: API answered code ${String(json.code)}${json.message ? `: ${String(json.message)}` : ''}`);
  }
  if (json.data === null || typeof json.data !== 'object') throw new DuologueError('E_API', `${label}: the response has no data object`);
  return json.data as T;
}

/** Bodies of JSON answers are small; a huge one is a broken proxy, not data. */
const MAX_JSON_BYTES = 1 << 20;

async function readText(res: Dispatcher.ResponseData): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BYTES) {
      res.body.destroy();
      throw new DuologueError('E_API', `response body over ${MAX_JSON_BYTES} bytes (not read further)`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a JSON answer carries a task id where a submit's answer does (`data.id`; a top-level `id` may be a request's trace id). */
function namesTask(text: string): boolean {
  try {
    const json = JSON.parse(text) as { data?: { id?: unknown } | null } | null;
    const id = json?.data?.id;
    return (typeof id === 'string' && id !== '') || typeof id === 'number';
  } catch {
    return false;
  }
}

/** `message` (or `error`) of a JSON error body, else a snippet of the text. */
function apiMessage(text: string): string {
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown };
    const said = json.message ?? json.error;
    if (typeof said === 'string' && said.trim()) return snippet(said);
  } catch {
    /* not JSON */
  }
  return snippet(text);
}

function snippet(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 197)}...` : one;
}
