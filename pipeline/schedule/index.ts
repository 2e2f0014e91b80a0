/**
 * Runs a plan's misses through a provider under a concurrency cap and a
 * budget, one job per cache key, and writes the ledger. Ctrl-C stops new
 * submits and records what is in flight; a 401 stops everything.
 */
import { setMaxListeners } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import { Budgets, type RunBudgets } from './budget.ts';
import { DuologueError, cacheError } from '../errors.ts';
import type { SceneOutcome, Store, StoreParts } from '../cache/interfaces.ts';
import type { RunEvents } from '../events.ts';
import type { Plan, PlannedScene } from '../plan/index.ts';
import type { Provider } from '../providers/types.ts';
import { realSleep, type Sleep } from '../sleep.ts';
import type { ClipRow, ClipStore } from '../cache/clips/index.ts';
import { runJob, type JobDeps, type JobOutcome } from './job.ts';
import { createBusyWatch } from './busy-watch.ts';
import { submissionOrder } from './order.ts';
import type { DeferredScenes } from './deferred.ts';

export interface ScheduleOptions {
  plan: Plan;
  provider: Provider;
  /** The cache's state: claims, and the run's ledger (`runId`'s). */
  store: Store;
  runId: number;
  events: RunEvents;
  clipsDir: string;
  /** Where complete clips are shared (default: `clipsDir`, this machine's alone). */
  clips?: ClipStore;
  /** Keys other workers completed stay in the shared clip store (their results carry `remote`): see JobDeps. */
  deferSharedClips?: boolean;
  /** @default 4 */
  concurrency?: number;
  /** Stops the run: no new submit, in-flight work recorded. A submit request already sent is let finish. */
  signal?: AbortSignal;
  /** Stops at once, cutting even an open submit request (the second Ctrl-C). */
  forceSignal?: AbortSignal;
  sleep?: Sleep;
  /** @default 1000 */
  waitPollMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default a third of the store's lease */
  heartbeatMs?: number;
  retryAmbiguous?: boolean;
  /** Submit keys held after two paid predictions without a usable clip. */
  retryHeld?: boolean;
  /**
   * Submission order (order.ts): episode by episode within a bound on
   * longest-first's makespan. `lpt` (longest first across the run) and `fifo`
   * exist to measure what it buys (BENCHMARKS.md). @default 'longest-first'
   */
  order?: 'longest-first' | 'lpt' | 'fifo';
  /** A named run's caps, shared with its other workers through the store (`--run`). @default this process's own, in memory */
  budgets?: RunBudgets;
  /**
   * Scenes waiting for their lines' speech (deferred.ts): queued as each is
   * released, with its exact key and cost, while the rest renders. @default none
   */
  deferred?: DeferredScenes;
  /** The run's one concurrency cap, shared with the speech stage (its tasks queued first). @default its own, of `concurrency` */
  limit?: LimitFunction;
  /** Each scene's result as soon as it is booked (clip delivered, cached, failed, skipped...): episodes are finished from it while the rest renders. */
  onSceneDone?: (result: SceneResult) => void;
}

export interface SceneResult {
  scene: PlannedScene;
  outcome: SceneOutcome;
  clip?: string;
  /** The clip is still only in the shared store (`clip` is where fetching it puts it): whoever needs its bytes fetches it. */
  remote?: ClipRow;
  costUsd: number;
  error?: string;
  code?: string;
  /** Submit (or resume) to delivered clip, for rendered scenes. */
  processingSeconds?: number;
  /** Something the ledger should say about a rendered scene (a lost submit answer found, or submitted again and why). */
  note?: string;
}

export interface ScheduleResult {
  scenes: SceneResult[];
  spentUsd: number;
  interrupted: boolean;
  /** Set when the API refused the key: the run stopped. */
  authError?: DuologueError;
  /** Set when the provider refused a submit for lack of balance: nothing more was submitted. */
  balanceError?: DuologueError;
}

/** How a run's scenes ended, as the summary line and the report count them (an interrupted scene counts as skipped). */
export function outcomeCounts(scenes: readonly Pick<SceneResult, 'outcome'>[]): { rendered: number; cached: number; failed: number; skipped: number } {
  const counts = { rendered: 0, cached: 0, failed: 0, skipped: 0 };
  for (const s of scenes) {
    if (s.outcome === 'interrupted') counts.skipped++;
    else if (s.outcome in counts) counts[s.outcome as keyof typeof counts]++;
  }
  return counts;
}

export async function schedule(options: ScheduleOptions): Promise<ScheduleResult> {
  const { plan, events, store } = options;
  // The caps the plan admitted episodes under; each submit reserves against its episode's.
  const budgets = options.budgets ?? new Budgets(plan);
  const stop = new AbortController(); // aborted by Ctrl-C, a 401, or a cache that cannot be written
  // Every job's waits listen to it: with a tier's hundreds of scenes at once, that is hundreds of listeners, not a leak.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  let authError: DuologueError | undefined;
  let balanceError: DuologueError | undefined;
  let fatal: unknown;
  const heartbeat = setInterval(() => {
    store.renders.renew().catch((error: unknown) => {
      // Disk full, I/O error: the leases cannot be kept, so stop submitting (reported as E_CACHE below).
      fatal ??= error;
      stop.abort(error);
    });
  }, options.heartbeatMs ?? store.renders.leaseMs / 3);
  heartbeat.unref();

  const results = new Map<PlannedScene, SceneResult>();
  /** Keys whose scenes' ledger rows were written with the render's completion (one commit, not two). */
  const booked = new Set<string>();
  const record = async (scene: PlannedScene, r: Omit<SceneResult, 'scene'>) => {
    const result = { scene, ...r };
    results.set(scene, result);
    if (!booked.has(scene.key) || (r.outcome !== 'rendered' && r.outcome !== 'cached')) {
      try {
        await store.transaction((tx) => ledgerRow(tx, scene, r));
      } catch (error) {
        // The cache cannot be written (disk full, I/O error): nothing more can be recorded
        // safely, so stop submitting and report it once everything in flight has settled.
        fatal ??= error;
        stop.abort(error);
      }
    }
    // After the books: a clip handed on is one this run has recorded.
    options.onSceneDone?.(result);
  };
  /** A scene's row in the run's books, and the key it rendered with: one commit, the caller's. */
  const ledgerRow = async (tx: StoreParts, scene: PlannedScene, r: Pick<SceneResult, 'outcome' | 'costUsd' | 'error' | 'note'>) => {
    await tx.ledger.scene(options.runId, { episodeId: scene.episodeId, sceneId: scene.sceneId, key: scene.key, outcome: r.outcome, costUsd: r.costUsd, error: r.error ?? r.note });
    if (r.outcome !== 'skipped' && r.outcome !== 'interrupted') await tx.renders.recordSceneKey(scene.episodeId, scene.sceneId, scene.key, scene.keyInputs);
  };

  // One job per key: scenes with identical inputs and seed share one render.
  const byKey = new Map<string, PlannedScene[]>();
  const deferred = options.deferred;
  for (const ep of plan.episodes) {
    for (const scene of ep.scenes) {
      if (deferred?.held.has(scene)) continue; // queued once its lines are voiced
      if (scene.action === 'skip') {
        await record(scene, { outcome: 'skipped', costUsd: 0, error: scene.skipReason });
        events.emitEvent({ type: 'skipped', episode: scene.episodeId, scene: scene.sceneId, reason: scene.skipReason ?? 'skipped' });
        continue;
      }
      byKey.get(scene.key)?.push(scene) ?? byKey.set(scene.key, [scene]);
    }
  }

  const concurrency = options.concurrency ?? 4;
  const limit = options.limit ?? pLimit(concurrency);
  /** Keys whose job has its outcome: a scene released later with one of them is its own job (a cache hit by then). */
  const closed = new Set<string>();
  const deps: JobDeps = {
    provider: options.provider,
    store,
    budgetFor: (scene) => budgets.for(scene.episodeId),
    events,
    clipsDir: options.clipsDir,
    clips: options.clips,
    deferSharedClips: options.deferSharedClips,
    retryAmbiguous: options.retryAmbiguous ?? false,
    retryHeld: options.retryHeld ?? false,
    now: options.now ?? Date.now,
    forceSignal: options.forceSignal,
    // Written with the prediction id, so a run killed from here on still shows what it paid.
    onCharged: (tx, scene, usd) => tx.ledger.scene(options.runId, { episodeId: scene.episodeId, sceneId: scene.sceneId, key: scene.key, outcome: 'in-flight', costUsd: usd }),
    onSubmitted: (tx, scene, predictionId) => tx.ledger.submitted(options.runId, scene, predictionId),
    spend: () => events.emitEvent({ type: 'spend', reservedUsd: budgets.reservedUsd, spentUsd: budgets.spentUsd, budgetUsd: budgets.limitUsd ?? null }),
    // Inside the completion's transaction: the leader rendered, the scenes sharing its key cached.
    onRendered: async (tx, leader, r) => {
      closed.add(leader.key);
      for (const [i, scene] of byKey.get(leader.key)!.entries()) {
        await ledgerRow(tx, scene, i === 0 ? { outcome: 'rendered', costUsd: r.costUsd, note: r.note } : { outcome: 'cached', costUsd: 0 });
      }
      booked.add(leader.key);
    },
  };
  const groups = [...byKey.values()].map((group) => group[0]);
  const leaders = options.order === 'fifo' ? groups : submissionOrder(groups, { slots: concurrency, byEpisode: options.order !== 'lpt' });
  for (const s of leaders) if (s.action !== 'cached') events.emitEvent({ type: 'queued', episode: s.episodeId, scene: s.sceneId, key: s.key, estimateUsd: s.estimateUsd, videoSeconds: s.videoSeconds });

  /** One go at a key; an error ends it as failed (a 401 or an unwritable cache also stops the run). */
  const attempt = async (leader: PlannedScene): Promise<JobOutcome> => {
    // Each job listens on a signal of its own: its many waits and requests then add and remove
    // listeners on a short list, not on the run's stop signal with hundreds of jobs on it.
    const own = new AbortController();
    const onStop = () => own.abort(stop.signal.reason);
    if (stop.signal.aborted) onStop();
    else stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      const outcome = await runJob(leader, deps, own.signal);
      if (outcome.outcome === 'failed' && outcome.stops?.code === 'E_AUTH') {
        authError ??= outcome.stops;
        stop.abort(outcome.stops);
      }
      if (outcome.outcome === 'failed' && outcome.code === 'E_STORE') {
        // The shared clip store refuses or is gone: every clip rendered from here would be paid for and
        // not count (kept in flight, collected free later), so nothing more is submitted this run.
        const e = new DuologueError('E_STORE', outcome.error);
        fatal ??= e;
        stop.abort(e);
      }
      return outcome;
    } catch (error) {
      const e = error as DuologueError;
      if (e.code === 'E_CACHE' || e.code === 'E_STORE') {
        fatal ??= error;
        stop.abort(error);
      }
      if (e.code === 'E_AUTH') {
        authError ??= e;
        stop.abort(e);
      }
      if (e.code === 'E_BALANCE') {
        // No task was created. Nothing more is submitted; what is in flight is still collected.
        const reason = 'insufficient balance';
        if (!balanceError) {
          balanceError = e;
          budgets.refuseAll(reason);
          events.emitEvent({ type: 'warning', message: `${options.provider.info.label} refused a submit: the account's balance cannot pay for it (${e.message}). Nothing more is submitted this run; scenes in flight are still collected. Top up and run again.` });
        }
        return { outcome: 'skipped', reason };
      }
      return { outcome: 'failed', error: e.message ?? String(error), code: e.code ?? 'E_INTERNAL', costUsd: 0 };
    } finally {
      stop.signal.removeEventListener('abort', onStop);
    }
  };
  const sleep = options.sleep ?? realSleep;
  const waitPollMs = options.waitPollMs ?? 1_000;
  /** Keys other runs hold: read together each poll, claimed again only once a claim could get them. */
  // Leases are on the store's clock (a shared store's is its server's): read against it, not this machine's.
  const busy = createBusyWatch({ renders: store.renders, sleep, pollMs: waitPollMs, now: () => store.renders.clock.now(), signal: stop.signal });

  /**
   * A key's attempts after its first, then its scenes' books. A key another live run holds is waited
   * for outside the concurrency cap, so a paused run elsewhere cannot stall this run's other scenes.
   */
  const finishKey = async (leader: PlannedScene, first: JobOutcome): Promise<void> => {
    let outcome = first;
    while (outcome.outcome === 'busy') {
      events.emitEvent({ type: 'waiting', episode: leader.episodeId, scene: leader.sceneId, key: leader.key, reason: 'another run is rendering this key' });
      try {
        await busy.until(leader.key);
      } catch {
        outcome = { outcome: 'interrupted', costUsd: 0 };
        break;
      }
      outcome = await limit(() => attempt(leader));
    }
    closed.add(leader.key);
    for (const [i, scene] of byKey.get(leader.key)!.entries()) {
      const at = { episode: scene.episodeId, scene: scene.sceneId, key: scene.key };
      switch (outcome.outcome) {
        case 'rendered':
          await record(scene, { outcome: i === 0 ? 'rendered' : 'cached', clip: outcome.clip, costUsd: i === 0 ? outcome.costUsd : 0, processingSeconds: outcome.processingSeconds, note: i === 0 ? outcome.note : undefined });
          if (i > 0) events.emitEvent({ type: 'cached', ...at });
          break;
        case 'cached':
          await record(scene, { outcome: 'cached', clip: outcome.clip, ...(outcome.remote ? { remote: outcome.remote } : {}), costUsd: 0 });
          events.emitEvent({ type: 'cached', ...at });
          break;
        case 'failed':
          await record(scene, { outcome: 'failed', costUsd: i === 0 ? outcome.costUsd : 0, error: outcome.error, code: outcome.code });
          events.emitEvent({ type: 'failed', ...at, error: outcome.error, code: outcome.code });
          break;
        case 'skipped':
          await record(scene, { outcome: 'skipped', costUsd: 0, error: outcome.reason });
          events.emitEvent({ type: 'skipped', episode: scene.episodeId, scene: scene.sceneId, reason: outcome.reason });
          break;
        case 'interrupted':
          await record(scene, { outcome: authError ? 'failed' : 'interrupted', costUsd: i === 0 ? outcome.costUsd : 0, error: authError?.message ?? 'interrupted' });
          break;
      }
    }
  };

  // One lane per concurrency slot takes the next key as its last attempt ends; a key's books and any
  // wait for another run go on beside it. A pending promise per key from the start (10,000 keys at
  // Silver scale) stayed live all run: ~8 MB, which V8's heap growth made several times that in peak RSS.
  let next = 0;
  const finishing = new Set<Promise<void>>();
  // While speech is being made, scenes keep coming: an idle lane waits for the next released one.
  let open = deferred !== undefined;
  let idle: (() => void)[] = [];
  const wakeLanes = () => {
    const woken = idle;
    idle = [];
    for (const w of woken) w();
  };
  const release = async (scene: PlannedScene) => {
    if (scene.action === 'skip') {
      await record(scene, { outcome: 'skipped', costUsd: 0, error: scene.skipReason });
      events.emitEvent({ type: 'skipped', episode: scene.episodeId, scene: scene.sceneId, reason: scene.skipReason ?? 'skipped' });
      return;
    }
    const group = byKey.get(scene.key);
    if (group && !closed.has(scene.key)) {
      group.push(scene); // rendered once, by the key's job already queued
      return;
    }
    byKey.set(scene.key, [scene]);
    leaders.push(scene);
    if (scene.action !== 'cached') events.emitEvent({ type: 'queued', episode: scene.episodeId, scene: scene.sceneId, key: scene.key, estimateUsd: scene.estimateUsd, videoSeconds: scene.videoSeconds });
  };
  const feed = (async () => {
    if (!deferred) return;
    try {
      for (let batch = await deferred.next(); batch !== null; batch = await deferred.next()) {
        for (const scene of batch) await release(scene);
        wakeLanes();
      }
    } catch (error) {
      fatal ??= error;
      stop.abort(error);
    } finally {
      open = false;
      wakeLanes();
    }
  })();
  const lane = async () => {
    for (;;) {
      if (next >= leaders.length) {
        if (!open) break;
        await new Promise<void>((r) => idle.push(r));
        continue;
      }
      const leader = leaders[next++];
      let first: JobOutcome;
      try {
        first = await limit(() => attempt(leader));
      } catch {
        continue; // attempt() answers every error with an outcome; as before, one key's failure does not stop the others
      }
      const done: Promise<void> = finishKey(leader, first)
        .catch(() => {})
        .finally(() => finishing.delete(done));
      finishing.add(done);
    }
  };
  await Promise.all([feed, ...Array.from({ length: deferred ? concurrency : Math.min(concurrency, leaders.length) }, lane)]);
  while (finishing.size > 0) await Promise.all([...finishing]);
  clearInterval(heartbeat);
  options.signal?.removeEventListener('abort', onAbort);
  try {
    await store.renders.releaseAll();
  } catch (error) {
    fatal ??= error;
  }
  if (fatal) throw cacheError(fatal, options.clipsDir.replace(/[\\/]clips$/, ''));

  const ordered = plan.episodes.flatMap((ep) => ep.scenes).map((s) => results.get(s)!);
  return { scenes: ordered, spentUsd: budgets.spentUsd, interrupted: Boolean(options.signal?.aborted), authError, balanceError };
}
