/**
 * Finishes episodes while the provider still renders: each delivered clip is
 * conformed at once on the local pool, and an episode is stitched as soon as
 * its last scene is conformed (all cache hits: at the start of the run). The
 * user waits for episodes, not scenes.
 *
 * One unit per run: `sceneDone(scene)` → maybe conform → maybe stitch. Two
 * seams for later work: `claim` (issue 13: across machines, one worker
 * stitches each episode) and `write` (an `--out s3://` writer). stitchOnce
 * (stitch-once.ts) does both in one call, so it plugs in as `write`: its
 * `stitch` is stitchEpisode into a temp file, `written` is `stitched`,
 * `done` is `up-to-date`, `held` waits and asks again.
 */
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { isAbort } from '../errors.ts';
import type { RunEvents } from '../events.ts';
import type { Plan, PlannedEpisode, PlannedScene } from '../plan/index.ts';
import type { SceneResult, ScheduleResult } from '../schedule/index.ts';
import { conformClip } from './conform.ts';
import { episodeFormat, type EpisodeFormat } from './format.ts';
import type { LocalPool } from './pool.ts';
import { episodeEvent, episodeOutcome, writeEpisode, type EpisodeOutcome, type EpisodeWriter, type FinishOptions } from './run-episodes.ts';

export interface EpisodeSeams {
  /**
   * Asked once per ready episode, before any of its output is written: does
   * this process write it? `false`: another worker does (its outcome says
   * so). @default this process writes every episode
   */
  claim?: (episodeId: string, signal: AbortSignal) => Promise<boolean>;
  /** Writes the episode's file. @default stitchEpisode: a local temp file renamed over the output */
  write?: EpisodeWriter;
  /**
   * `write` takes a slot of the pool itself, only for its ffmpeg work (it may wait on other workers
   * first, and must not hold a slot meanwhile). @default false: the finisher runs `write` in a slot
   */
  writePooled?: boolean;
  /**
   * Conform each clip this process rendered as soon as it is delivered. `false` when another worker
   * may stitch its episode (a shared store): that worker conforms the episode's clips when it stitches,
   * so a conform here would most often be thrown away. @default true
   */
  conformDelivered?: boolean;
}

export interface FinisherOptions extends FinishOptions {
  events: RunEvents;
  /** Where conforms and stitches run (createLocalPool, sized to the cores). */
  pool: LocalPool;
  seams?: EpisodeSeams;
  /** Counts real conform runs (tests, benchmarks). */
  stats?: { conformed: number; reused: number };
}

export interface Finisher {
  /** A scene of the plan has its result (clip or not); called by the scheduler as each one settles. */
  sceneDone(result: SceneResult): void;
  /**
   * After scheduling: waits for the work started, writes what is still to
   * write (partial episodes with `allowPartial`), and returns every episode's
   * outcome in plan order, each `episode` event emitted exactly once.
   */
  finish(result: ScheduleResult): Promise<EpisodeOutcome[]>;
  /** Stops what runs (the run failed): nothing new starts; temp files are removed as each ffmpeg stops. */
  stop(): Promise<void>;
}

interface EpisodeState {
  ep: PlannedEpisode;
  format: EpisodeFormat;
  results: Map<PlannedScene, SceneResult>;
  conforms: Promise<unknown>[];
  /** Set once the episode is written, found up to date, failed, or left to another worker. */
  outcome?: EpisodeOutcome;
  writing?: Promise<void>;
}

export function createFinisher(plan: Plan, options: FinisherOptions): Finisher {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per running ffmpeg
  const onAbort = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  const finishOptions: FinishOptions = { ...options, signal };
  const write = options.seams?.write;
  const conformDir = path.join(options.workDir, 'conformed');

  const states = new Map<string, EpisodeState>(
    plan.episodes.map((ep) => [ep.id, { ep, format: episodeFormat(ep.scenes.map((s) => s.resolution), ep.format), results: new Map(), conforms: [] }]),
  );
  /** One conform per (clip identity, format): a key shared by two scenes is conformed once. */
  const conforming = new Map<string, Promise<unknown>>();
  const running = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    running.add(p);
    const done = () => running.delete(p);
    p.then(done, done); // the failure itself is finish()'s to report

  };

  const conform = (result: SceneResult, format: EpisodeFormat): Promise<unknown> => {
    const id = JSON.stringify([result.scene.key, format]);
    let p = conforming.get(id);
    if (!p) {
      const clip = result.clip!;
      // A failure here is not the episode's verdict: the stitch conforms again and reports it.
      p = options.pool.run('conform', () => conformClip(clip, result.scene.key, format, { dir: conformDir, ffmpeg: options.ffmpeg, signal, stats: options.stats })).catch(() => undefined);
      conforming.set(id, p);
      // Waited for by finish() and stop() like a stitch: a conform stopped by Ctrl-C removes its temp
      // files in its own finally, which must have run before render() returns (its episode may never
      // get to a stitch that would wait for it).
      track(p.then(() => undefined));
    }
    return p;
  };

  const decide = (state: EpisodeState, outcome: EpisodeOutcome) => {
    state.outcome = outcome;
    options.events.emitEvent(episodeEvent(outcome));
  };

  /** Claim → write, on a stitch worker. An abort leaves the episode undecided (its temp files are gone). */
  const writeNow = async (state: EpisodeState, scenes: SceneResult[]): Promise<void> => {
    const outcome = episodeOutcome(state.ep, scenes);
    try {
      if (options.seams?.claim && !(await options.seams.claim(state.ep.id, signal))) {
        decide(state, { ...outcome, reason: 'written by another worker of this run' });
        return;
      }
      const writing = () => writeEpisode(state.ep, scenes, outcome, finishOptions, write);
      await (options.seams?.writePooled ? writing() : options.pool.run('stitch', writing));
    } catch (error) {
      if (isAbort(error)) return;
      throw error;
    }
    decide(state, outcome);
  };

  const ordered = (state: EpisodeState) => state.ep.scenes.map((s) => state.results.get(s)!);

  return {
    sceneDone(result) {
      const state = states.get(result.scene.episodeId);
      if (!state || signal.aborted) return;
      state.results.set(result.scene, result);
      // A clip delivered now is conformed now. A cache hit is left to the stitch: an episode that is
      // up to date conforms nothing, and one that is not finds its earlier conforms on disk.
      if (result.clip && result.outcome === 'rendered' && options.seams?.conformDelivered !== false) state.conforms.push(conform(result, state.format));
      const scenes = state.ep.scenes;
      if (state.writing || state.results.size < scenes.length || scenes.some((s) => !state.results.get(s)?.clip)) return;
      // The last scene is in: write the episode once its clips are conformed. Episodes with a
      // missing scene wait for finish(): whether they are written depends on how the run ended.
      state.writing = Promise.all(state.conforms).then(() => (signal.aborted ? undefined : writeNow(state, ordered(state))));
      track(state.writing);
    },

    async finish(result) {
      await Promise.all(running);
      const byEpisode = new Map<string, SceneResult[]>();
      for (const s of result.scenes) byEpisode.get(s.scene.episodeId)?.push(s) ?? byEpisode.set(s.scene.episodeId, [s]);
      const stopped = result.interrupted || Boolean(result.authError) || signal.aborted;
      const late: Promise<void>[] = [];
      for (const state of states.values()) {
        if (state.outcome) continue;
        const scenes = byEpisode.get(state.ep.id) ?? [];
        const outcome = episodeOutcome(state.ep, scenes);
        // As before: nothing is stitched after an interruption or a refused key.
        if (!stopped && (outcome.status === 'complete' || options.allowPartial)) late.push(writeNow(state, scenes));
      }
      await Promise.all(late);
      options.signal?.removeEventListener('abort', onAbort);
      // Episodes never written (a scene missing, the run stopped) are reported now, in plan order.
      return plan.episodes.map((ep) => {
        const state = states.get(ep.id)!;
        if (!state.outcome) decide(state, episodeOutcome(ep, byEpisode.get(ep.id) ?? []));
        return state.outcome!;
      });
    },

    async stop() {
      stop.abort();
      options.signal?.removeEventListener('abort', onAbort);
      await Promise.allSettled(running);
    },
  };
}
