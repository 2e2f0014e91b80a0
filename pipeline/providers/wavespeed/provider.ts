import { DEFAULTS } from '../../defaults.ts';
import { AmbiguousSubmitError, DuologueError, abortError } from '../../errors.ts';
import type { UploadMemo } from '../../cache/interfaces.ts';
import type { FfmpegPaths } from '../../media/ffmpeg.ts';
import { PROVIDERS } from '../info.ts';
import type { PollResult, Provider, RenderTask, SubmitOptions, WaitOptions } from '../types.ts';
import { createAccount } from './account.ts';
import { connect, type WavespeedConnectionOptions } from './context.ts';
import { createDownloader } from './download.ts';
import { createTaskFinder } from './find-task.ts';
import { createStatusBoard } from './status-board.ts';
import { readEnvelope, send } from './http.ts';
import { createPacer } from './pacer-for-tier.ts';
import { createSharedPacer } from './shared-pacer.ts';
import type { AccountWindow, WindowOptions } from '../../cache/submit-window.ts';
import { ACCOUNT_TIERS } from './tiers.ts';
import type { Clock, Permit, SubmitPacer } from './pacer.ts';
import { deadlineFor, firstPollDelayMs, pollDelayMs } from './policy.ts';
import type { TierSetting } from './tiers.ts';
import { withFreshInputs } from './fresh-inputs.ts';
import { readPatiently, readResult, type Prediction } from './result.ts';
import { createUploader } from './uploader.ts';

export const MODEL_PATH = '/api/v3/wavespeed-ai/infinitetalk/multi';

export interface WavespeedOptions extends WavespeedConnectionOptions {
  ffmpeg: FfmpegPaths;
  /** Where built dialogue/silent tracks are written before upload. */
  workDir: string;
  uploads: UploadMemo;
  /** The account level whose limits pace submits; `auto` learns them from 429s. @default auto (env WAVESPEED_TIER) */
  tier?: TierSetting;
  /** Where `auto` starts (starts per window, tasks in flight): the run's concurrency. @default 4 */
  concurrency?: number;
  /** The limiter's clock (tests); its window is `policy.rateWindowMs`. */
  clock?: Clock;
  /**
   * The account's submit window in the store, shared by every process on it: given, a known tier's
   * videos per minute are paced account-wide (`auto` still learns per process). Opened on first submit.
   */
  submitWindow?: (options: WindowOptions) => Promise<AccountWindow>;
  /** A scene's submit waits for the account's rate limit (once per wait); never given the key. */
  onRateLimitWait?: (task: { episodeId: string; sceneId: string; key: string }) => void;
}

export { failureKind } from './result.ts';

/**
 * WaveSpeed InfiniteTalk Multi over HTTP (undici). The key is sent only to
 * the base URL's origin, never to upload or output hosts, and never appears
 * in an error message.
 */
export function createWavespeedProvider(options: WavespeedOptions): Provider {
  const { ctx, redact, close } = connect(options);
  const { deps, policy } = ctx;
  const { apiUrl, headersFor } = ctx;
  const uploader = createUploader(ctx, options);
  // One limiter for the whole run: every submit of this provider goes through it.
  const tier = options.tier ?? 'auto';
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const { submitWindow } = options;
  const pacer: Pick<SubmitPacer, 'busy' | 'acquire'> & { close?: () => Promise<void> } =
    tier !== 'auto' && submitWindow
      ? createSharedPacer({
          videosPerMinute: ACCOUNT_TIERS[tier].videosPerMinute,
          maxInFlight: ACCOUNT_TIERS[tier].concurrentTasks,
          window: (windowMs) => submitWindow({ limit: ACCOUNT_TIERS[tier].videosPerMinute, windowMs }),
          windowMs: policy.rateWindowMs,
          slack: policy.rateWindowSlack,
          now: options.clock?.now ?? deps.now,
          sleep: deps.sleep,
        })
      : createPacer({ tier, concurrency, policy, clock: options.clock });
  /** Tasks this run submitted, in flight until their wait ends. */
  const flying = new Map<string, Permit>();
  const download = createDownloader(ctx);
  const findTask = createTaskFinder(ctx);
  // Looks shared by every wait: as fresh as half the poll floor, so no wait sees a staler answer than its own poll would.
  const board = createStatusBoard(ctx, PROVIDERS.wavespeed.model, policy.pollInitialMs / 2);
  /** A task's submit inputs (media uploaded once, URLs reused): what a submit sends and a price quote asks about. */
  const inputsFor = async (task: RenderTask, signal?: AbortSignal): Promise<Record<string, unknown>> => {
    const label = `${task.episodeId}/${task.sceneId}`;
    const image = /^https?:\/\//i.test(task.image.location) ? task.image.location : await uploader.upload(task.image.localPath, task.image.sha256, label, signal);
    const [left, right] = await Promise.all([uploader.trackUrl(task.tracks.left, label, signal), uploader.trackUrl(task.tracks.right, label, signal)]);
    return { left_audio: left, right_audio: right, image, ...(task.prompt ? { prompt: task.prompt } : {}), order: task.order, resolution: task.resolution, seed: task.seed };
  };
  const withInputs = withFreshInputs(inputsFor, uploader);
  const account = createAccount(ctx, withInputs);

  const provider: Provider = {
    info: PROVIDERS.wavespeed,
    predictionRetentionMs: policy.predictionRetentionMs,

    // Inputs refused outright (an upload URL the provider no longer keeps): uploaded again, submitted once more.
    submit: (task, submitOptions = {}) =>
      redact(withInputs(task, submitOptions.signal, (inputs) => submitWith(task, inputs, submitOptions), submitOptions.onNotSubmitted)),

    poll: (id, task, { signal } = {}) => redact(readResult(ctx, id, `${task.episodeId}/${task.sceneId} (prediction ${id})`, signal)),

    async wait(id, task, waitOptions = {}) {
      try {
        return await waitFor(id, task, waitOptions);
      } finally {
        // Final, failed or given up on: this run no longer counts it in flight.
        flying.get(id)?.end();
        flying.delete(id);
        board.untrack(id);
      }
    },

    download: (result, task, dest, { signal } = {}) => redact(download(result, task, dest, signal)),

    findSubmitted: (sent, { signal, knownIds = [], latestSend } = {}) => redact(findTask(sent, knownIds, signal, latestSend)),

    forgetUploads: (task) => uploader.forget(task.image, [task.tracks.left, task.tracks.right]),

    account: {
      balance: (o) => redact(account.balance(o)),
      quote: (task, o) => redact(account.quote(task, o)),
      billings: (w, o) => redact(account.billings(w, o)),
    },
    async close() {
      await pacer.close?.();
      await close();
    },
  };

  /** One submit of a task with these inputs (retried per http.ts while answers prove no task was created). */
  async function submitWith(task: RenderTask, inputs: Record<string, unknown>, { signal, onSubmitting, onNotSubmitted, forceSignal, sendWindowMs }: SubmitOptions): Promise<{ predictionId: string }> {
    const label = `${task.episodeId}/${task.sceneId}`;
    const body = JSON.stringify(inputs);
    const url = apiUrl(MODEL_PATH);
    if (signal?.aborted) throw abortError(signal);
    const sent = JSON.parse(body) as Record<string, unknown>;
    let permit: Permit | undefined;
    let sentAt = deps.now();
    let told = false;
    const waiting = () => {
      if (told) return;
      told = true;
      options.onRateLimitWait?.(task);
    };
    const res = await send(
      {
        method: 'POST',
        url,
        label: `[POST] "${url}" (${label})`,
        headers: headersFor(url, { 'content-type': 'application/json' }),
        body: () => body,
        mode: 'submit',
        signal,
        beforeAttempt: (sendBy) => {
          sentAt = deps.now();
          return onSubmitting?.({ model: PROVIDERS.wavespeed.model, at: sentAt, ...(sendBy !== undefined ? { sendBy } : {}), body: sent });
        },
        // A worker paused between marking the submit and writing it must not send after its claim may have lapsed.
        sendWindowMs,
        onNoTask: onNotSubmitted,
        // Sent means maybe billed: only a forced stop cuts it; the answer carries the task's id. (No
        // signal at all without one: a controller per submit was ~0.7 KB kept through its pacing wait.)
        requestSignal: forceSignal ?? null,
        pace: async (s) => {
          permit?.withdrawn(); // the last attempt never reached the API (refused connection)
          if (pacer.busy) waiting();
          permit = await pacer.acquire(s);
          permit.sent();
        },
        onRateLimited: (ms) => {
          waiting();
          permit?.refused(ms);
          permit = undefined;
        },
        // A 429 proves no task exists: the scene waits for the rate limit as long as its deadline allows.
        retryForMs: deadlineFor(task.videoSeconds, policy),
      },
      deps,
    ).catch((error: unknown) => {
      permit?.end();
      throw error;
    });
    permit?.answered();
    let data: Prediction;
    try {
      data = await readEnvelope<Prediction>(res, `submit ${label}`);
    } catch (error) {
      permit?.end();
      // A 2xx whose body we cannot read may still have created the task.
      throw new AmbiguousSubmitError('E_API', `${(error as Error).message} — the task may have been created and billed; it is not resubmitted this run`, { cause: error });
    }
    if (typeof data.id !== 'string' || data.id === '') {
      permit?.end();
      throw new AmbiguousSubmitError('E_API', `submit ${label}: the response has no data.id — the task may have been created and billed; it is not resubmitted this run`);
    }
    if (permit) flying.set(data.id, permit);
    board.track(data.id, sentAt);
    return { predictionId: data.id };
  }

  async function waitFor(id: string, task: RenderTask, { signal, deadline, justSubmitted }: WaitOptions): Promise<PollResult> {
    const until = deadline ?? deps.now() + deadlineFor(task.videoSeconds, policy);
    // A task submitted a moment ago is still queued or processing until at least its expected
    // processing time: polling sooner would be wasted requests (a resumed one may be done: look now).
    if (justSubmitted) await deps.sleep(Math.max(0, Math.min(until - deps.now(), firstPollDelayMs(task.videoSeconds, policy))), signal);
    for (let n = 0; ; n++) {
      // A task this run submitted is first looked up on the shared list: completed there, its output URL
      // is taken from the list; only another end (or an unlisted task) costs its own request.
      const seen = board.tracks(id) ? await board.seen(id, signal) : undefined;
      if (seen?.kind === 'completed') return { status: 'completed', outputUrl: seen.outputUrl };
      if (seen?.kind === 'pending') {
        const remaining = until - deps.now();
        if (remaining > 0) {
          await deps.sleep(Math.min(remaining, pollDelayMs(n, policy)), signal);
          continue;
        }
      }
      const result = await readPatiently(ctx, () => provider.poll(id, task, { signal }), signal);
      if (result.status === 'completed' || result.status === 'failed') return result;
      const remaining = until - deps.now();
      if (remaining <= 0) {
        throw new DuologueError(
          'E_DEADLINE',
          `${task.episodeId}/${task.sceneId}: prediction ${id} still ${result.status} at the deadline; its id is kept and the next run resumes it`,
        );
      }
      await deps.sleep(Math.min(remaining, pollDelayMs(n, policy)), signal);
    }
  }
  return provider;
}
