/**
 * The library's `render`: read → plan → schedule → stitch, with progress as
 * typed events. Never exits the process; the CLI decides.
 */
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { roundUsd } from '../cost/estimate.ts';
import { DEFAULTS } from '../defaults.ts';
import { DuologueError, isAbort, type Diagnostic } from '../errors.ts';
import { openStore } from '../cache/store.ts';
import { accountWindowFor } from '../cache/submit-window.ts';
import { openClipStore } from '../cache/clips/index.ts';
import { RATE_LIMIT_WAIT, RunEvents } from '../events.ts';
import { resolveFfmpegPaths, type FfmpegPaths } from '../media/ffmpeg.ts';
import type { Plan } from '../plan/index.ts';
import { planManifests } from './plan-manifests.ts';
import { preflight, unaffordable, withPrices } from './preflight.ts';
import { PROVIDERS, type ProviderId } from '../providers/info.ts';
import { createLocalProvider } from '../providers/local/provider.ts';
import type { Provider } from '../providers/types.ts';
import type { Clock } from '../providers/wavespeed/pacer.ts';
import { defaultConcurrency } from '../providers/wavespeed/pacer-for-tier.ts';
import type { WavespeedPolicy } from '../providers/wavespeed/policy.ts';
import type { TierSetting } from '../providers/wavespeed/tiers.ts';
import { createWavespeedProvider } from '../providers/wavespeed/provider.ts';
import { outcomeCounts, schedule, type ScheduleOptions, type ScheduleResult } from '../schedule/index.ts';
import { SharedBudgets } from '../schedule/shared-budget.ts';
import { sharedPoolName } from './named-run.ts';
import { joinWithSeeds } from './run-seeds.ts';
import { realSleep, type Sleep } from '../sleep.ts';
import { createFinisher, type EpisodeSeams, type Finisher } from '../stitch/finisher.ts';
import { createLocalPool } from '../stitch/pool.ts';
import { openEpisodeOutputs, parseOutTarget, type EpisodeOutputs, type OutTarget } from '../stitch/outputs/index.ts';
import { sharedEpisodeWriter } from '../stitch/shared-writer.ts';
import type { ClipRow, ClipStore } from '../cache/clips/index.ts';
import { episodeEvent, finishEpisodes, type EpisodeOutcome } from '../stitch/run-episodes.ts';
import { VERSION } from '../version.ts';
import { writeRunReport } from '../report/write-report.ts';
import type { SpeechProvider } from '../providers/speech-types.ts';
import { createSpeechProvider } from './speech-provider.ts';
import pLimit from 'p-limit';
import { Budgets } from '../schedule/budget.ts';
import { sceneResolver } from './resolve-scenes.ts';
import { latePriceCheck } from './late-quote.ts';
import { startSpeech, type SpeechRun } from './voice.ts';

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

export type { EpisodeOutcome } from '../stitch/run-episodes.ts';

export interface RenderResult {
  plan: Plan;
  warnings: Diagnostic[];
  schedule: ScheduleResult;
  episodes: EpisodeOutcome[];
  runId: number;
  /** Path of report.html, when written. */
  report?: string;
}

export async function render(files: readonly string[], options: RenderOptions): Promise<RenderResult> {
  const events = options.events ?? new RunEvents();
  const cacheDir = path.resolve(options.cacheDir ?? DEFAULTS.cacheDir);
  const ffmpeg = options.ffmpeg ?? resolveFfmpegPaths();
  const info = PROVIDERS[options.provider];
  if (options.provider === 'wavespeed' && !options.apiKey && !options.providerInstance) {
    throw new DuologueError('E_USAGE', 'the wavespeed provider needs an API key (WAVESPEED_API_KEY)');
  }
  const tier = options.provider === 'wavespeed' ? (options.tier ?? 'auto') : 'auto';
  const concurrency = options.concurrency ?? defaultConcurrency(tier, DEFAULTS.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DuologueError('E_USAGE', `Expected \`concurrency\` to be a whole number from 1 up, got \`${concurrency}\``);
  }
  if (options.storeUrl !== undefined && options.clipsUrl === undefined) {
    // Complete renders on a shared store whose clips are on one machine: every other machine would pay for them again.
    throw new DuologueError('E_USAGE', 'a shared store (storeUrl) needs shared clips (clipsUrl, s3://bucket/prefix) too');
  }
  if (options.clipsUrl !== undefined && options.storeUrl === undefined) {
    // Shared clips with this machine's own state (a CI runner whose store secret is empty): the bucket's
    // clips are unknown to its fresh cache, so every scene would be paid for again, and refused at publish.
    throw new DuologueError('E_USAGE', 'shared clips (clipsUrl, --clips / DUOLOGUE_CLIPS) need the shared store too (storeUrl, --store / DUOLOGUE_STORE): without it this machine does not know which clips in the bucket are paid for, and would pay for every scene again');
  }
  // Checked before anything is opened or paid: a bad --out is a usage error.
  const outValue = options.outDir ?? DEFAULTS.outDir;
  const outTarget: OutTarget = isUrl(outValue) ? parseOutTarget(outValue, options.env ?? process.env) : { kind: 'dir', dir: path.resolve(outValue) };
  const store = await openStore({ dir: cacheDir, leaseMs: options.leaseMs, url: options.storeUrl });
  const clipsDir = path.join(cacheDir, 'clips');
  let clips;
  try {
    clips = await openClipStore({ clipsDir, url: options.clipsUrl, env: options.env });
  } catch (error) {
    await store.close();
    throw error;
  }
  const ledger = store.ledger;
  let provider: Provider | undefined;
  let run: { id: number; finished: boolean } | undefined;
  let finisher: Finisher | undefined;
  let outputs: EpisodeOutputs | undefined;
  try {
    // The run is on the books from the start, so `cache gc` sees it (and keeps what it will need)
    // while it is still hashing, probing and planning.
    // A named run's row is joined once the plan is known (its fingerprint is the plan's keys), before any spend.
    if (options.runName === undefined) run = { id: await ledger.start({ provider: info.id, args: options.args ?? [...files], budgetUsd: options.budgetUsd, plannedUsd: 0 }), finished: false };
    // A bucket's run keeps its report (and any episode's own output: path, checked as usual) on this machine.
    const outDir = outTarget.kind === 'dir' ? outTarget.dir : path.join(cacheDir, 'report');
    const planOptions = {
      store, cacheDir, clips, ffmpeg, provider: info, signal: options.signal, episodes: options.episodes, budgetUsd: options.budgetUsd,
      outputs: { outDir, allowOutside: options.allowOutside },
    };
    // Scenes whose lines are text are planned on their estimated (bound) lengths; run/voice.ts voices them
    // beside the video scheduler, and each scene gets its exact key once its lines are voiced.
    let manifests = await planManifests(files, planOptions);
    provider =
      options.providerInstance ??
      (options.provider === 'local'
        ? createLocalProvider({ workDir: path.join(cacheDir, 'work'), ffmpeg })
        : createWavespeedProvider({
            apiKey: options.apiKey!,
            baseUrl: options.baseUrl,
            ffmpeg,
            workDir: path.join(cacheDir, 'work'),
            uploads: store.uploads('wavespeed'),
            dispatcher: options.dispatcher,
            policy: options.policy,
            sleep: options.sleep,
            tier,
            concurrency,
            // A known tier's limit belongs to the account: paced through the store, shared by every process on it.
            submitWindow: accountWindowFor({ dir: cacheDir, url: options.storeUrl, provider: 'wavespeed', apiKey: options.apiKey! }),
            clock: options.clock,
            onRetry: (r) => events.emitEvent({ type: 'retry', ...r }),
            onRateLimitWait: (t) => events.emitEvent({ type: 'waiting', episode: t.episodeId, scene: t.sceneId, key: t.key, reason: RATE_LIMIT_WAIT }),
          }));
    // Live price and balance, asked before anything is paid for (speech included); the plan admits
    // episodes under both, each on its speech and its video's upper bound.
    const pre = await preflight({
      provider,
      acceptLivePrices: options.acceptLivePrices,
      signal: options.signal,
      planWith: manifests.planWith,
    });
    let plan = pre.plan;
    const priced = withPrices(provider, pre.prices);
    const budgetUsd = plan.capUsd;
    let shared: SharedBudgets | undefined;
    if (options.runName !== undefined) {
      const { joined, ...planned } = await joinWithSeeds({
        ledger,
        start: { name: options.runName, provider: info.id, args: options.args ?? [...files], budgetUsd },
        budgetOption: options.budgetUsd,
        manifests,
        plan,
        replan: async (seeds) => {
          const again = await planManifests(files, { ...planOptions, seeds });
          return { manifests: again, plan: again.planWith(pre.prices, pre.balanceUsd) };
        },
        // A scene's video key is made from its speech's bytes, so a worker joining after some lines are voiced
        // plans other keys than one that joined before: with lines written as text, the fingerprint is of the
        // plan with every line as text (keys from the manifests alone, on the same seeds).
        fingerprintPlan: async (m, p) =>
          m.prepared.speech ? (await planManifests(files, { ...planOptions, speechAsText: true, seeds: m.prepared.drawnSeeds })).planWith(pre.prices) : p,
      });
      ({ manifests, plan } = planned);
      run = { id: joined.id, finished: false };
      await ledger.joinWorker(joined.id);
      if (!joined.created) {
        // Joined late (a rerun job, a worker started after the others): episodes are admitted against
        // what the run has left, not the whole cap, so none is started that the cap can no longer finish.
        // Taken: what the run spent, and what other workers hold for keys this plan does not count as its
        // own misses (in flight, or rendered by now); holds on its own misses are in its plan already.
        // A line still to voice is its scene's miss too: its speech hold (another worker voicing it) is in this plan already.
        const ownMisses = [...new Set(plan.episodes.flatMap((e) => e.scenes.filter((s) => s.action === 'render' || s.action === 'skip').flatMap((s) => [s.key, ...s.pendingSpeech.map((p) => p.key)])))];
        const taken = new Map<string, number>();
        for (const p of plan.budgets) {
          if (p.kind === 'balance') continue;
          const t = await ledger.holdTotals(joined.id, sharedPoolName(p.id), ownMisses);
          taken.set(p.id, roundUsd(t.spentUsd + t.reservedUsd));
        }
        if ([...taken.values()].some((usd) => usd > 0)) plan = manifests.planWith(pre.prices, pre.balanceUsd, (id) => taken.get(id) ?? 0);
      }
      shared = new SharedBudgets(plan, ledger, joined.id, store.renders.owner, sharedPoolName);
      // A crashed worker's holds whose keys were never submitted go back before this one reserves.
      await ledger.releaseStaleHolds(joined.id);
    }
    const runId = run!.id;
    if (!shared) await ledger.planned(runId, { budgetUsd, plannedUsd: plan.totals.costUsd });
    const t = plan.totals;
    events.emitEvent({
      type: 'run',
      provider: info.id,
      scenes: t.scenes,
      toRender: t.render,
      cached: t.cached,
      resume: t.resume,
      skipped: t.skipped,
      budgetUsd: budgetUsd ?? null,
      plannedUsd: t.costUsd,
      concurrency,
      episodes: plan.episodes.map((e) => ({ id: e.id, scenes: e.scenes.length })),
    });
    if (pre.quote && pre.prices !== info.prices) {
      events.emitEvent({ type: 'warning', message: `WaveSpeed quotes $${pre.quote.quotedUsd.toFixed(4)}, the table says $${pre.quote.tableUsd.toFixed(4)} (${pre.quote.scene}): reserving and recording at the quoted prices (--accept-live-prices)` });
    }
    const broke = unaffordable(plan);
    if (broke) events.emitEvent({ type: 'warning', message: broke });

    const finishing = {
      outDir,
      workDir: path.join(cacheDir, 'work'),
      ffmpeg,
      signal: options.signal,
      allowPartial: options.allowPartial,
      provenance: { duologue: VERSION, provider: info.id, model: info.model, price_table: pre.prices.version },
    };
    const pipelined = (options.finishOrder ?? 'as-scenes-land') === 'as-scenes-land';
    const pool = createLocalPool({ size: options.localWorkers, signal: options.signal });
    /** Clips other workers completed, left in the shared clip store until this worker stitches their episode. */
    const remote = new Map<string, ClipRow>();
    // Shared episodes: the embedded default (SQLite, a folder) keeps writing every episode itself, byte for byte as before.
    let seams = options.episodeSeams;
    if (!seams && (options.storeUrl !== undefined || outTarget.kind === 's3')) {
      outputs = await openEpisodeOutputs(outTarget);
      seams = {
        writePooled: true,
        // The worker that claims an episode conforms its clips (stitch/shared-writer.ts).
        conformDelivered: false,
        write: sharedEpisodeWriter({
          stitches: store.stitches,
          outputs,
          outKind: outTarget.kind === 's3' ? 'bucket' : 'dir',
          pool,
          fetchClip: (key, signal) => fetchRemoteClip(remote, clips, key, signal),
          leaseMs: store.renders.leaseMs,
          pollMs: options.waitPollMs ?? 1_000,
          sleep: options.sleep ?? realSleep,
          runId: options.runName !== undefined ? runId : undefined,
        }),
      };
    }
    if (pipelined) finisher = createFinisher(plan, { ...finishing, events, seams, pool });
    // One set of caps and one concurrency cap for both stages; speech tasks are queued first.
    const budgets = shared ?? new Budgets(plan);
    const limit = pLimit(concurrency);
    const speechStop = new AbortController();
    const stopSpeech = () => speechStop.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', stopSpeech, { once: true });
    if (options.signal?.aborted) stopSpeech();
    const speech: SpeechRun = startSpeech({
      manifests,
      plan,
      resolve: sceneResolver(
        (episodes) => planManifests(files, { ...planOptions, episodes, uncapped: true, unvoiced: 'skip' }),
        pre.prices,
        latePriceCheck(provider, pre.unquoted ?? [], { signal: options.signal, warn: (message) => events.emitEvent({ type: 'warning', message }) }),
      ),
      provider: () => options.speechInstance ?? createSpeechProvider({ ...options, cacheDir, ffmpeg, onRetry: (r) => events.emitEvent({ type: 'retry', ...r }) }),
      renders: store.renders,
      ledger,
      runId,
      clips,
      budgets,
      concurrency,
      limit,
      // A line another run or worker is voicing is waited for, as a video key is.
      waitFor: { sleep: options.sleep ?? realSleep, waitPollMs: options.waitPollMs ?? 1_000 },
      events,
      signal: speechStop.signal,
      forceSignal: options.forceSignal,
    });
    let result: ScheduleResult;
    let voiced;
    try {
      result = await schedule({
        plan,
        provider: priced,
        store,
        runId,
        events,
        clipsDir,
        clips,
        concurrency,
        signal: options.signal,
        forceSignal: options.forceSignal,
        sleep: options.sleep,
        waitPollMs: options.waitPollMs,
        retryAmbiguous: options.retryAmbiguous,
        retryHeld: options.retryHeld,
        budgets,
        limit,
        deferred: speech.gate,
        order: options.order,
        // Only the worker that stitches an episode downloads the clips other workers rendered for it.
        deferSharedClips: clips.shared && seams?.write !== undefined && options.episodeSeams === undefined,
        onSceneDone: (r) => {
          if (r.remote) remote.set(r.scene.key, r.remote);
          finisher?.sceneDone(r);
        },
      });
    } finally {
      // The scheduler ended (or failed): no line is voiced for a scene that will not be rendered.
      if (!speechStop.signal.aborted) speechStop.abort();
      options.signal?.removeEventListener('abort', stopSpeech);
      // Never rejects: awaited here so no speech request outlives the run's store.
      voiced = await speech.done;
    }
    if (voiced.error !== undefined) throw voiced.error;

    // Pipelined, most episodes are written (and announced) by now; the rest are settled here.
    const episodes = finisher ? await finisher.finish(result) : await finishEpisodes(plan, result, finishing, (e) => events.emitEvent(episodeEvent(e)), seams?.write);
    let reportPath: string | undefined;
    // A Ctrl-C after the last scene (while an episode was written) interrupts the run all the same.
    const interrupted = result.interrupted || Boolean(options.signal?.aborted);
    const unwritten = episodes.filter((e) => e.stitch === 'failed').map((e) => `${e.id} not written: ${e.error}`);
    await ledger.finish(
      runId,
      interrupted ? 'interrupted' : result.authError ? 'failed' : episodes.every((e) => e.status === 'complete') ? 'complete' : 'incomplete',
      unwritten.length > 0 ? unwritten.join('; ') : undefined,
    );
    run!.finished = true;
    if (options.report !== false) {
      try {
        const written = await writeRunReport(
          outDir,
          { plan, scenes: result.scenes, episodes, spentUsd: shared ? (await ledger.holdTotals(runId)).spentUsd : result.spentUsd, interrupted, runId, version: VERSION, generatedAt: new Date(), speech: { spentUsd: voiced.spentUsd, lines: voiced.lines } },
          { ffmpeg },
        );
        reportPath = written.html;
      } catch (error) {
        events.emitEvent({ type: 'warning', message: `report not written: ${(error as Error).message}` });
      }
    }
    events.emitEvent({
      type: 'summary',
      ...outcomeCounts(result.scenes),
      cost_usd: result.spentUsd,
      interrupted,
      episodes: episodes.map(({ id, status, output, error }) => ({ id, status, output, ...(error === undefined ? {} : { error }) })),
    });
    return { plan, warnings: manifests.warnings, schedule: { ...result, interrupted }, episodes, runId, report: reportPath };
  } catch (error) {
    // No ffmpeg outlives the run: what runs is stopped, its temp files removed.
    await finisher?.stop();
    // The ledger says how the run ended, whatever ended it (status shows "died" only for a killed process).
    if (run && !run.finished) {
      try {
        await ledger.finish(run.id, isAbort(error) ? 'interrupted' : 'failed', (error as Error)?.message);
      } catch {
        /* the cache itself may be what failed; the error below says so */
      }
    }
    // A write to the cache (ledger, memos) that fails is already the store's E_CACHE: the same clean stop as the heartbeat's.
    throw error;
  } finally {
    await provider?.close?.();
    await outputs?.close();
    await store.close();
    await clips.close();
  }
}

/** `--out` naming a URL (s3://…, or a scheme parseOutTarget refuses) rather than a folder. */
function isUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim());
}

/** A clip left in the shared clip store, made local for a stitch (undefined: the scene's clip is local already). */
async function fetchRemoteClip(remote: Map<string, ClipRow>, clips: ClipStore, key: string, signal: AbortSignal): Promise<string | undefined> {
  const row = remote.get(key);
  if (!row) return undefined;
  const got = await clips.fetch(row, signal);
  if ('problem' in got) throw new DuologueError('E_STORE', `clip ${key.slice(0, 12)}… for the stitch: ${got.problem}`);
  return got.path;
}
