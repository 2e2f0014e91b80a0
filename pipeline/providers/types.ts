import type { SceneTracks } from '../media/timeline.ts';
import type { ProviderInfo } from '../plan/index.ts';
import type { Order, Resolution } from '../types.ts';

/** One scene to render, as a provider needs it (a PlannedScene satisfies it). */
export interface RenderTask {
  key: string;
  episodeId: string;
  sceneId: string;
  image: { location: string; localPath: string; sha256: string; width: number; height: number };
  tracks: SceneTracks;
  order: Order;
  resolution: Resolution;
  prompt: string;
  seed: number;
  videoSeconds: number;
}

export type PredictionStatus = 'created' | 'processing' | 'completed' | 'failed';

export interface PollResult {
  status: PredictionStatus;
  /** Where the finished clip can be fetched (completed only). */
  outputUrl?: string;
  /** The provider's own words on a failure. */
  error?: string;
  /**
   * What kind of failure, from the provider's code: `moderation` and `input` are about the scene
   * (not retried until it changes), `fetch` an input URL it could not read (re-upload, retry once),
   * `server` its own trouble (retry once), `other` anything else.
   */
  failure?: { kind: 'moderation' | 'input' | 'fetch' | 'server' | 'other'; code?: number };
  /** Seconds the provider spent on inference, when it says. */
  inferenceSeconds?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** What a submit sent, and when: enough to find the task it may have created if its answer is lost. */
export interface SentSubmit {
  model: string;
  /** Epoch ms just before the request was sent. */
  at: number;
  /**
   * Epoch ms (the sender's clock) after which no byte of it was written: a request not on its way
   * by then was cut unsent (`SubmitOptions.sendWindowMs`). Absent: no such bound.
   */
  sendBy?: number;
  /** The request body (URLs of the uploaded inputs, seed, order...). */
  body: Record<string, unknown>;
}

export interface SubmitOptions extends CallOptions {
  /**
   * Called just before the request that creates the (paid) task is sent:
   * from here on, a crash or an unclear failure means it may have been billed.
   * Called again before each retry of that request, and awaited. If it
   * throws (or rejects), nothing is sent and the error is the submit's.
   */
  onSubmitting?: (sent: SentSubmit) => void | Promise<void>;
  /**
   * An answer proved no task was created (a 429, a refused connection) and the
   * request will be tried again after a wait: until then nothing can have been
   * billed, so a stop or a crash in that wait is a clean one.
   */
  onNotSubmitted?: () => void | Promise<void>;
  /**
   * `signal` stops a submit only up to the paid request. Once that request is
   * sent it is let finish (within its timeouts), so a stop never cuts off the
   * answer that carries the new task's id; this signal cuts it all the same
   * (the second Ctrl-C). @default never
   */
  forceSignal?: AbortSignal;
  /**
   * The paid request's first byte leaves within this long of `onSubmitting`
   * starting, or it is cut unsent and `onSubmitting` runs again before the
   * next attempt (so a worker that was paused past its claim's lease, and lost
   * it, sends nothing). @default no deadline
   */
  sendWindowMs?: number;
}

export interface WaitOptions extends CallOptions {
  /** Epoch ms after which waiting stops (the prediction id is kept). */
  deadline?: number;
  /** Submitted a moment ago: wait one poll interval before the first look (it cannot be done yet). */
  justSubmitted?: boolean;
}

export interface Delivered {
  /** Final path of the clip (renamed into place). */
  path: string;
  bytes: number;
  /** Duration of the delivered clip (as ffprobe would report it): what spend is recorded from. */
  durationSeconds: number;
  /** sha256 of the clip, when the provider computed it on the way in. */
  sha256?: string;
}

/** One charge on the provider's invoice. */
export interface BillingRecord {
  predictionId: string;
  usd: number;
  /** Epoch ms. */
  createdAt: number;
}

/**
 * A paid provider's account, when it has one: what it can pay, what it
 * charges now, and what it billed. Generic code asks for this capability
 * instead of checking which provider it has.
 */
export interface ProviderAccount {
  /** USD the account can still spend. */
  balance(options?: CallOptions): Promise<number>;
  /** What the provider would charge for this task today (its discounted price when discounted). */
  quote(task: RenderTask, options?: CallOptions): Promise<number>;
  /** Every charge created in [from, to] (epoch ms). */
  billings(window: { from: number; to: number }, options?: CallOptions): Promise<BillingRecord[]>;
}

/**
 * What a provider can do. Generic code (the scheduler) asks these instead of
 * checking which provider it has.
 */
export interface ProviderCapabilities {
  /**
   * Its renders cost money: a submit is held against the budget, a key is
   * held after paid attempts without a usable clip, a paid unusable clip is
   * counted. False: an interrupted or failed render is simply done again.
   */
  billed: boolean;
  /** A task outlives the process that submitted it: a later run polls (and collects) the id an earlier one recorded. */
  resumable: boolean;
  /**
   * A submit's answer can be lost after the task was created (the network
   * between): a submit that ended without one may have been billed, and is
   * looked up or left to a person before anything is sent again.
   */
  ambiguousSubmits: boolean;
  /** Inputs are uploaded before a submit (and can be forgotten and uploaded again). */
  needsUpload: boolean;
}

/** A provider as the run sees it: what planning needs, its name for messages, and what it can do. */
export interface ProviderDescription extends ProviderInfo {
  /** Its name in messages to the user ("Check the WaveSpeed dashboard"). */
  label: string;
  capabilities: ProviderCapabilities;
}

/**
 * A provider turns one task into one mp4. Submitting and polling are separate
 * so a later process can resume polling a prediction an earlier one submitted.
 */
export interface Provider {
  readonly info: ProviderDescription;
  /** How long the provider keeps a prediction and its output; an older one is lost, not polled. Absent: forever. */
  readonly predictionRetentionMs?: number;
  /** Starts a render; resolves once the provider has the task and gave it an id. */
  submit(task: RenderTask, options?: SubmitOptions): Promise<{ predictionId: string }>;
  /** One look at a prediction. */
  poll(predictionId: string, task: RenderTask, options?: CallOptions): Promise<PollResult>;
  /** Polls until a final status or the deadline; on `completed` returns the result. */
  wait(predictionId: string, task: RenderTask, options?: WaitOptions): Promise<PollResult>;
  /** Fetches the clip to a temp file beside `dest`, checks it, renames it to `dest`. */
  download(result: PollResult, task: RenderTask, dest: string, options?: CallOptions): Promise<Delivered>;
  /**
   * Looks for the task a submit whose answer was lost may have created (the
   * provider's list of recent predictions): its id, or undefined only when
   * the provider can show there is none (then it may be submitted again).
   * `knownIds`: predictions this key already had, never the lost one.
   * `latestSend`: the latest moment (epoch ms) its request may have been on
   * its way (default `sent.at`): "absent" counts only from a look made a full
   * lost-answer window after it.
   * Throws when it cannot tell (also when more than one task matches). Absent: the provider cannot look; a person must.
   */
  findSubmitted?(sent: SentSubmit, options?: CallOptions & { knownIds?: readonly string[]; latestSend?: number }): Promise<string | undefined>;
  /** Forgets the uploaded URLs of a task's inputs, so the next submit uploads them afresh. */
  forgetUploads?(task: RenderTask): Promise<void> | void;
  /** Balance, live prices and billing records (paid providers). */
  readonly account?: ProviderAccount;
  close?(): Promise<void>;
}
