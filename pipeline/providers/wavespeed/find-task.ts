import type { SentSubmit } from '../types.ts';
import type { ApiContext } from './context.ts';
import { readEnvelope, send } from './http.ts';

/** The prediction list: `POST /api/v3/predictions` (DESIGN.md, WaveSpeed wire). */
export const PREDICTIONS_PATH = '/api/v3/predictions';

interface ListedPrediction {
  id?: unknown;
  model?: unknown;
  status?: unknown;
  inputs?: unknown;
  created_at?: unknown;
}

/** The fields of a submit that identify it: the same inputs and seed are the same task. */
const IDENTITY = ['image', 'left_audio', 'right_audio', 'order', 'resolution', 'seed', 'prompt'] as const;

/** Whether a listed prediction is the task a submit sent. */
export function sameTask(sent: SentSubmit, item: ListedPrediction): boolean {
  if (typeof item.id !== 'string' || item.id === '') return false;
  if (typeof item.model === 'string' && item.model !== sent.model) return false;
  const inputs = item.inputs;
  if (!inputs || typeof inputs !== 'object') return false;
  const got = inputs as Record<string, unknown>;
  return IDENTITY.every((field) => String(got[field] ?? '') === String(sent.body[field] ?? ''));
}

/**
 * Looks for the task a submit whose answer was lost may have created, among
 * the account's predictions created in the submit's time window (widened for
 * clock skew). Its id when listed; undefined only when two looks, at least
 * `lostAnswerRecheckMs` apart, the second a full `lostAnswerWindowMs` after
 * the request could last have been on its way (`latestSend`, default the
 * submit's start), both show no such task (the list may lag behind a task
 * just created).
 */
export function createTaskFinder(ctx: ApiContext): (sent: SentSubmit, knownIds: readonly string[], signal?: AbortSignal, latestSend?: number) => Promise<string | undefined> {
  const { deps, policy } = ctx;
  const look = lookOnce(ctx);
  return async (sent, knownIds, signal, latestSend = sent.at) => {
    const first = await look(sent, knownIds, signal);
    if (first) return first;
    await deps.sleep(Math.max(policy.lostAnswerRecheckMs, latestSend + policy.lostAnswerWindowMs - deps.now()), signal);
    return look(sent, knownIds, signal);
  };
}

function lookOnce(ctx: ApiContext): (sent: SentSubmit, knownIds: readonly string[], signal?: AbortSignal) => Promise<string | undefined> {
  const { deps, policy, apiUrl, headersFor } = ctx;
  return async (sent, knownIds, signal) => {
    const matches = new Set<string>();
    const url = apiUrl(PREDICTIONS_PATH);
    const from = new Date(sent.at - policy.lostAnswerSkewMs).toISOString();
    const to = new Date(Math.max(deps.now(), sent.at) + policy.lostAnswerSkewMs).toISOString();
    for (let page = 1; page <= policy.lostAnswerMaxPages; page++) {
      const body = JSON.stringify({ page, page_size: policy.lostAnswerPageSize, created_after: from, created_before: to, model: sent.model });
      const res = await send(
        { method: 'POST', url, label: `[POST] "${url}" (looking for a lost submit)`, headers: headersFor(url, { 'content-type': 'application/json' }), body: () => body, mode: 'idempotent', signal },
        deps,
      );
      const data = await readEnvelope<{ items?: ListedPrediction[] }>(res, 'prediction list');
      const items = Array.isArray(data.items) ? data.items : [];
      // An earlier prediction of the same key (same inputs and seed) is not the lost one.
      for (const item of items) if (sameTask(sent, item) && !knownIds.includes(item.id as string)) matches.add(item.id as string);
      if (items.length < policy.lostAnswerPageSize) break;
      if (page === policy.lostAnswerMaxPages) {
        // More predictions in the window than we read: we cannot say it is not there.
        throw new Error(`more than ${policy.lostAnswerMaxPages * policy.lostAnswerPageSize} predictions in the submit's window; look on the dashboard`);
      }
    }
    if (matches.size > 1) throw new Error(`${matches.size} unknown tasks match this submit (${[...matches].join(', ')}); which one is its answer cannot be told`);
    return matches.values().next().value;
  };
}
