import type { ApiContext } from './context.ts';
import { PREDICTIONS_PATH } from './find-task.ts';
import { abortError } from '../../errors.ts';
import { readEnvelope, send, type HttpDeps } from './http.ts';

/**
 * What one list look says of a prediction: still working, completed with its
 * output URL, ended another way, or not listed (lag, paging).
 */
export type Seen = { kind: 'pending' } | { kind: 'completed'; outputUrl: string } | { kind: 'final' } | { kind: 'unknown' };

const PENDING_SEEN: Seen = { kind: 'pending' };
const FINAL_SEEN: Seen = { kind: 'final' };
const UNKNOWN_SEEN: Seen = { kind: 'unknown' };

/**
 * One look at the prediction list answers "is it done yet?" for every task
 * this run has in flight: with 300 tasks processing, a look every few
 * seconds replaces 300 result requests. A task the list shows completed with
 * an output URL needs no request of its own (the list carries the same
 * outputs as the result); any other end (failed: its error code is only in
 * the result) leads to the task's own result request; `unknown`
 * (the list lags, or the task is past the pages read) falls back to it too,
 * and so does any failure of the list itself, at once: a list page gets one
 * attempt (retrying it, Retry-After and all, held every task in flight for
 * minutes), and a failed look answers `unknown` to everyone for as long as a
 * look is fresh. So the board can only save requests: it never loses a result,
 * and a failing list never delays one (a list that shows a finished task as
 * still running does, up to the task's deadline, where its own result is read).
 */
export interface StatusBoard {
  /** Follows a task this run submitted at `submittedAt` (epoch ms, our clock). */
  track(id: string, submittedAt: number): void;
  untrack(id: string): void;
  tracks(id: string): boolean;
  /** From a look no older than `maxAgeMs`; looks are shared by every caller. */
  seen(id: string, signal?: AbortSignal): Promise<Seen>;
}

const FINAL = new Set(['completed', 'failed', 'cancelled', 'timeout']);
const PENDING = new Set(['created', 'queued', 'processing']);

export function createStatusBoard(ctx: ApiContext, model: string, maxAgeMs: number): StatusBoard {
  const { deps, policy, apiUrl, headersFor } = ctx;
  /** One attempt per page: the task's own result request has the retries. */
  const once: HttpDeps = { ...deps, policy: { ...policy, maxAttempts: 1 } };
  const tracked = new Map<string, number>();
  let snapshot: { at: number; statuses: Map<string, Seen> } | undefined;
  let looking: Promise<Map<string, Seen>> | undefined;

  async function look(signal?: AbortSignal): Promise<Map<string, Seen>> {
    const at = deps.now();
    const statuses = new Map<string, Seen>();
    let oldest = Infinity;
    for (const t of tracked.values()) oldest = Math.min(oldest, t);
    if (oldest === Infinity) return statuses;
    const url = apiUrl(PREDICTIONS_PATH);
    const from = new Date(oldest - policy.lostAnswerSkewMs).toISOString();
    const to = new Date(at + policy.lostAnswerSkewMs).toISOString();
    // Pages about twice as long as the tasks followed (newest first, they are mostly on the first):
    // a few tasks in flight do not pay for parsing a hundred others' inputs every look.
    const pageSize = Math.min(policy.lostAnswerPageSize, Math.max(10, 2 * tracked.size));
    for (let page = 1; page <= policy.lostAnswerMaxPages; page++) {
      const body = JSON.stringify({ page, page_size: pageSize, created_after: from, created_before: to, model });
      const res = await send(
        { method: 'POST', url, label: `[POST] "${url}" (status of tasks in flight)`, headers: headersFor(url, { 'content-type': 'application/json' }), body: () => body, mode: 'idempotent', signal },
        once,
      );
      const data = await readEnvelope<{ items?: ListItem[] }>(res, 'prediction list');
      const items = Array.isArray(data.items) ? data.items : [];
      for (const item of items) if (item && typeof item.id === 'string' && tracked.has(item.id)) statuses.set(item.id, seenOf(item));
      // Every task followed has been seen, or the list has no more pages: stop (those past the last page fall back to their own polls).
      if (items.length < pageSize || statuses.size >= tracked.size) break;
    }
    snapshot = { at, statuses };
    return statuses;
  }

  return {
    track: (id, submittedAt) => void tracked.set(id, submittedAt),
    untrack: (id) => void tracked.delete(id),
    tracks: (id) => tracked.has(id),
    async seen(id, signal) {
      let statuses = snapshot && deps.now() - snapshot.at <= maxAgeMs ? snapshot.statuses : undefined;
      if (!statuses) {
        // A failed look is remembered like a good one that listed nothing: every task asks for its own result.
        looking ??= look(signal)
          .catch(() => (snapshot = { at: deps.now(), statuses: new Map<string, Seen>() }).statuses)
          .finally(() => (looking = undefined));
        statuses = await ownStop(looking, signal);
      }
      return statuses.get(id) ?? UNKNOWN_SEEN;
    },
  };
}

interface ListItem {
  id?: unknown;
  status?: unknown;
  outputs?: unknown;
}

/** A list item as a Seen: completed counts only with a fetchable output URL (else its own result says what is wrong). */
function seenOf(item: ListItem): Seen {
  const status = String(item.status ?? '');
  if (PENDING.has(status)) return PENDING_SEEN;
  if (status === 'completed') {
    const output = Array.isArray(item.outputs) ? item.outputs[0] : undefined;
    return typeof output === 'string' && /^https?:\/\//.test(output) ? { kind: 'completed', outputUrl: output } : FINAL_SEEN;
  }
  return FINAL.has(status) ? FINAL_SEEN : UNKNOWN_SEEN;
}

/** A shared look runs on its first caller's signal; each caller still stops at its own. */
function ownStop<T>(shared: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
