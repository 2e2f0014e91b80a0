/**
 * The library's `render`: read → plan → schedule → stitch, with progress as
 * typed events. Never exits the process; the CLI decides.
 */
import path from 'node:path';
import { DEFAULTS } from '../defaults.ts';
import { DuologueError, isAbort } from '../errors.ts';
import { openStore } from '../cache/store.ts';
import { openClipStore } from '../cache/clips/index.ts';
import { RunEvents } from '../events.ts';
import { resolveFfmpegPaths } from '../media/ffmpeg.ts';
import { planManifests } from './plan-manifests.ts';
import { preflight, scaledTable, unaffordable, withLivePrices, withPrices } from './preflight.ts';
import { PROVIDERS } from '../providers/info.ts';
import type { Provider } from '../providers/types.ts';
import { defaultConcurrency } from '../providers/wavespeed/pacer-for-tier.ts';
import { outcomeCounts, schedule, type ScheduleResult } from '../schedule/index.ts';
import type { SharedBudgets } from '../schedule/shared-budget.ts';
import { joinNamedRun } from './join-named-run.ts';
import { videoProvider } from './video-provider.ts';
import { realSleep } from '../sleep.ts';
import type { RenderOptions, RenderResult } from './render-options.ts';
import { createFinisher, type Finisher } from '../stitch/finisher.ts';
import { createLocalPool } from '../stitch/pool.ts';
import { openEpisodeOutputs, parseOutTarget, type EpisodeOutputs, type OutTarget } from '../stitch/outputs/index.ts';
import { sharedEpisodeWriter } from '../stitch/shared-writer.ts';
import type { ClipRow, ClipStore } from '../cache/clips/index.ts';
import { episodeEvent, finishEpisodes, type EpisodeOutcome } from '../stitch/run-episodes.ts';
import { VERSION } from '../version.ts';
import { writeRunReport } from '../report/write-report.ts';
import { createSpeechProvider } from './speech-provider.ts';
import { checkSpeechPrice } from './speech-quote.ts';
import pLimit from 'p-limit';
import { Budgets } from '../schedule/budget.ts';
import { sceneResolver } from './resolve-scenes.ts';
import { latePriceCheck } from './late-quote.ts';
import { speechJobs, startSpeech, type SpeechRun } from './voice.ts';

export type { RenderOptions, RenderResult } from './render-options.ts';
export type { EpisodeOutcome } from '../stitch/run-episodes.ts';

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
    provider = options.providerInstance ?? videoProvider(options, { cacheDir, ffmpeg, store, tier, concurrency, events });
    // Live price and balance, asked before anything is paid for (speech included); the plan admits
    // episodes under both, each on its speech and its video's upper bound.
    const pre = await preflight({
      provider,
      acceptLivePrices: options.acceptLivePrices,
      signal: options.signal,
      planWith: manifests.planWith,
    });
    // Speech's live price too, before any spend (the speech stage and its holds use the table's).
    const admitted = new Set(pre.plan.episodes.filter((e) => e.admitted).map((e) => e.id));
    const speechPriceRatio = await checkSpeechPrice(speechJobs(manifests).jobs, admitted, options.speechInstance ?? (() => createSpeechProvider({ ...options, cacheDir, ffmpeg })), {
      signal: options.signal,
      accept: options.acceptLivePrices,
      warn: (message) => events.emitEvent({ type: 'warning', message }),
    });
    let plan = pre.plan;
    // Moved once more if a live price is accepted for a resolution preflight could not quote (lines as text).
    let livePrices = pre.prices;
    const priced = options.acceptLivePrices && pre.unquoted?.length ? withLivePrices(provider, () => livePrices) : withPrices(provider, pre.prices);
    const budgetUsd = plan.capUsd;
    let shared: SharedBudgets | undefined;
    if (options.runName !== undefined) {
      const joined = await joinNamedRun({
        name: options.runName,
        ledger,
        owner: store.renders.owner,
        provider: info.id,
        args: options.args ?? [...files],
        budgetUsd,
        budgetOption: options.budgetUsd,
        manifests,
        plan,
        prices: pre.prices,
        balanceUsd: pre.balanceUsd,
        planAgain: (changed) => planManifests(files, { ...planOptions, ...changed }),
      });
      ({ manifests, plan, shared } = joined);
      run = { id: joined.runId, finished: false };
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
      priceRatio: speechPriceRatio,
      plan,
      resolve: sceneResolver(
        (episodes) => planManifests(files, { ...planOptions, episodes, uncapped: true, unvoiced: 'skip' }),
        () => livePrices,
        latePriceCheck(provider, pre.unquoted ?? [], {
          signal: options.signal,
          warn: (message) => events.emitEvent({ type: 'warning', message }),
          ...(options.acceptLivePrices ? { accept: (resolution: string, ratio: number) => (livePrices = scaledTable(livePrices, { [resolution]: ratio })) } : {}),
        }),
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
      retryAmbiguous: options.retryAmbiguous,
      retryHeld: options.retryHeld,
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
