/** What `render` takes and returns (the library's contract; README "Library"). */
import type { Dispatcher } from 'undici';
import type { Diagnostic } from '../errors.ts';
import type { RunEvents } from '../events.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import type { Plan } from '../plan/index.ts';
import type { ProviderId } from '../providers/info.ts';
import type { SpeechProvider } from '../providers/speech-types.ts';
import type { Provider } from '../providers/types.ts';
import type { Clock } from '../providers/wavespeed/pacer.ts';
import type { WavespeedPolicy } from '../providers/wavespeed/policy.ts';
import type { TierSetting } from '../providers/wavespeed/tiers.ts';
import type { ScheduleOptions, ScheduleResult } from '../schedule/index.ts';
import type { Sleep } from '../sleep.ts';
import type { EpisodeSeams } from '../stitch/finisher.ts';
import type { EpisodeOutcome } from '../stitch/run-episodes.ts';

export interface RenderOptions {
  provider: ProviderId;
  /** Required for `wavespeed`. */
  apiKey?: string;
  /** @default https://api.wavespeed.ai */
  baseUrl?: string;
  /** @default ./cache */
  cacheDir?: string;
  /**
   * A folder, or `s3://bucket/prefix` (the same AWS environment as `clipsUrl`): episodes go to
   * `<prefix><episode id>.mp4`, and the report to `<cacheDir>/report`. @default ./out
   */
  outDir?: string;
  /** A postgres:// URL: the cache's state on a server shared by several machines (default: the cache dir's own database). */
  storeUrl?: string;
  /** `s3://bucket/prefix`: complete clips shared by every machine, the cache dir a read-through copy (default: the cache dir alone). */
  clipsUrl?: string;
  /** The AWS environment for `clipsUrl` (AWS_ENDPOINT_URL, credentials, region). @default process.env */
  env?: NodeJS.ProcessEnv;
  budgetUsd?: number;
  /** @default 4, or with a `tier` its tasks-at-once cap */
  concurrency?: number;
  /**
   * WaveSpeed account level whose limits pace submits (videos started per
   * minute, tasks at once); `auto` learns them from 429s. @default auto
   */
  tier?: TierSetting;
  /** Only these episode ids (all when empty). */
  episodes?: string[];
  /** Stops the run: no new submits, what is in flight recorded. A submit request already sent is let finish (its answer carries the task's id). */
  signal?: AbortSignal;
  /** Stops at once, cutting even an open submit request (the second Ctrl-C): that submit is then recorded as maybe billed. */
  forceSignal?: AbortSignal;
  events?: RunEvents;
  ffmpeg?: FfmpegPaths;
  /** Recorded in the run ledger. */
  args?: string[];
  retryAmbiguous?: boolean;
  /** Submit keys held after two paid predictions without a usable clip (once more each). */
  retryHeld?: boolean;
  /** Collaborators for tests. */
  dispatcher?: Dispatcher;
  policy?: Partial<WavespeedPolicy>;
  sleep?: Sleep;
  /** The submit limiter's clock (its window is `policy.rateWindowMs`). */
  clock?: Clock;
  waitPollMs?: number;
  leaseMs?: number;
  /** Write <out>/report.html and report.json. @default true */
  report?: boolean;
  /** Stitch episodes with missing scenes, a slate in each gap (status stays incomplete). */
  allowPartial?: boolean;
  /** Allow an episode's `output:` outside its manifest's folder and outDir. @default false */
  allowOutside?: boolean;
  /** When WaveSpeed's live price differs from the price table: go on, reserving and recording at the live price (else the run stops before spending). */
  acceptLivePrices?: boolean;
  /** A ready provider instead of building one (tests, custom providers). */
  providerInstance?: Provider;
  /** A ready voice for lines written as text (tests). @default the provider's (run/speech-provider.ts) */
  speechInstance?: SpeechProvider;
  /**
   * When episodes are written: `as-scenes-land` conforms each clip as it is
   * delivered and stitches an episode as soon as its last scene is in;
   * `after-scenes` waits for every scene, then writes the episodes one after
   * another (the old order, kept to measure the difference). @default 'as-scenes-land'
   */
  finishOrder?: 'as-scenes-land' | 'after-scenes';
  /** Submission order (schedule's `order`; the others exist to measure it). @default 'longest-first' */
  order?: ScheduleOptions['order'];
  /** ffmpeg processes at once for conforms and stitches, apart from `concurrency`. @default the machine's cores */
  localWorkers?: number;
  /**
   * How episodes are written. @default with a shared store (`storeUrl`) or an `s3://` out, each
   * episode once across every worker (stitch/shared-writer.ts); otherwise this process writes every
   * episode into its folder, as it always did
   */
  episodeSeams?: EpisodeSeams;
  /**
   * Join the run of this name (`--run`, checked by parseRunName): every worker
   * started with it shares one cap, one ledger entry and one report's totals,
   * through the cache's state. @default none: this process is its own run
   */
  runName?: string;
}

export interface RenderResult {
  plan: Plan;
  warnings: Diagnostic[];
  schedule: ScheduleResult;
  episodes: EpisodeOutcome[];
  runId: number;
  /** Path of report.html, when written. */
  report?: string;
}
