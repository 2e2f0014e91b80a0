/**
 * One look at a prediction: `GET /api/v3/predictions/{id}/result`, read into
 * a PollResult. Video and speech predictions are polled alike (DESIGN.md,
 * WaveSpeed wire), so both providers use this.
 */
import { DuologueError, HttpStatusError, OutputError, PredictionGoneError } from '../../errors.ts';
import type { PollResult } from '../types.ts';
import type { ApiContext } from './context.ts';
import { readEnvelope, send } from './http.ts';
import { baseBackoffMs } from './policy.ts';

export interface Prediction {
  id?: string;
  /** On a failed task: 1200 moderation, 1400–1405 input (1402: a media URL could not be fetched), 5000/5003/5004 server side. */
  code?: unknown;
  status?: string;
  outputs?: unknown[];
  error?: string;
  timings?: { inference?: number };
}

const FINAL_FAILURES = new Set(['failed', 'cancelled', 'canceled', 'timeout']);

/** A failed task's numeric code, as a kind duologue acts on (DESIGN.md, WaveSpeed wire). */
export function failureKind(code: unknown): NonNullable<PollResult['failure']> {
  const n = typeof code === 'number' ? code : typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : undefined;
  if (n === undefined) return { kind: 'other' };
  if (n === 1200) return { kind: 'moderation', code: n };
  if (n === 1402) return { kind: 'fetch', code: n };
  if (n >= 1400 && n <= 1405) return { kind: 'input', code: n };
  if (n === 5000 || n === 5003 || n === 5004) return { kind: 'server', code: n };
  return { kind: 'other', code: n };
}

/** `label` names the task in messages (scene, line, prediction id). */
export async function readResult(ctx: ApiContext, id: string, label: string, signal?: AbortSignal): Promise<PollResult> {
  const { deps, apiUrl, headersFor } = ctx;
  const url = apiUrl(`/api/v3/predictions/${encodeURIComponent(id)}/result`);
  const res = await send({ method: 'GET', url, label: `[GET] "${url}" (${label})`, headers: headersFor(url), mode: 'idempotent', signal }, deps).catch((error: unknown) => {
    if (error instanceof HttpStatusError && error.status === 404) {
      throw new PredictionGoneError(`${label}: WaveSpeed does not know this prediction (404): predictions are deleted after 7 days, or a wrong id was attached`, { cause: error });
    }
    throw error;
  });
  const data = await readEnvelope<Prediction>(res, `result of ${label}`);
  const status = String(data.status ?? '');
  if (status === 'completed') {
    const output = Array.isArray(data.outputs) ? data.outputs[0] : undefined;
    if (typeof output !== 'string' || !/^https?:\/\//.test(output)) {
      // Completed (and billed) with nothing to fetch: asking again will not change it.
      throw new OutputError(`${label}: completed with no output URL`);
    }
    // `timings.inference` is in milliseconds (WaveSpeed's docs).
    const inference = typeof data.timings?.inference === 'number' ? data.timings.inference / 1000 : undefined;
    return { status: 'completed', outputUrl: output, inferenceSeconds: inference };
  }
  if (FINAL_FAILURES.has(status)) {
    const failure = failureKind(data.code);
    const what = failure.code !== undefined ? ` [${failure.kind} error ${failure.code}]` : '';
    return { status: 'failed', error: `${status}${data.error ? `: ${data.error}` : ''}${what}`, failure };
  }
  if (status === 'created' || status === 'processing' || status === 'queued') return { status: status === 'created' ? 'created' : 'processing' };
  throw new DuologueError('E_API', `${label}: unknown status ${JSON.stringify(data.status)}`);
}

/**
 * `read` until it gives a readable answer. An unreadable one (a proxy's HTML
 * page, a half-written body) says nothing about the prediction: it is asked
 * again, a bounded number of times in a row. Final answers (no output, gone)
 * and other errors are thrown at once.
 */
export async function readPatiently(ctx: ApiContext, read: () => Promise<PollResult>, signal?: AbortSignal): Promise<PollResult> {
  for (let unreadable = 1; ; unreadable++) {
    try {
      return await read();
    } catch (error) {
      if (error instanceof OutputError || error instanceof PredictionGoneError) throw error;
      if ((error as DuologueError).code !== 'E_API' || unreadable >= ctx.policy.maxAttempts) throw error;
      await ctx.deps.sleep(baseBackoffMs(unreadable, ctx.policy), signal);
    }
  }
}
