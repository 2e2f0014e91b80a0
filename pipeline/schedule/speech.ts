/**
 * The speech stage: voices the lines written as text that are not cached,
 * with the video stage's money rules. Each speech key is claimed in the
 * render store (the same claims, leases and fencing as video), so two runs
 * never voice one key at once; a paid submit is reserved first, marked
 * submitting before it is sent, its prediction id recorded the moment it is
 * known, and its audio kept in the clip store. A submit that may have been
 * billed without an answer is held, never sent again: one paid prediction
 * per key.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { ClipStore } from '../cache/clips/index.ts';
import { clipPath } from '../cache/clips/locate.ts';
import type { RenderStore, RunLedger } from '../cache/interfaces.ts';
import { AmbiguousSubmitError, TaskNotCreatedError, failureDetail, isAbort } from '../errors.ts';
import type { RunEvents } from '../events.ts';
import type { SpeechProvider, SpeechTask } from '../providers/speech-types.ts';
import type { SpeechKeyInput } from '../speech/key.ts';
import { billedChars } from '../speech/prices.ts';
import type { RunBudgets } from './budget.ts';
import type { Sleep } from '../sleep.ts';

/** One speech to make, with every line that uses it (run/speech.ts lists them). */
export interface SpeechWork {
  task: SpeechTask;
  inputs: SpeechKeyInput;
  usd: number;
  uses: { episodeId: string; sceneId: string; line: number }[];
}

export type SpeechStatus = 'voiced' | 'cached' | 'failed' | 'skipped' | 'held' | 'interrupted';

export interface SpeechResult {
  key: string;
  status: SpeechStatus;
  /** Charged this run (0 unless voiced here, or held: may have been billed). */
  costUsd: number;
  error?: string;
}

export interface SpeechStageOptions {
  jobs: readonly SpeechWork[];
  provider: SpeechProvider;
  renders: RenderStore;
  ledger: Pick<RunLedger, 'scene' | 'submitted'>;
  runId: number;
  clips: ClipStore;
  /** The run's caps: speech is held against its first episode's. */
  budgets: RunBudgets;
  concurrency: number;
  /** The run's one concurrency cap, shared with the video scheduler. @default its own, of `concurrency` */
  limit?: LimitFunction;
  /** Each key's outcome as soon as it is known (the scenes waiting on it are released then). */
  onSettled?: (job: SpeechWork, result: SpeechResult) => void;
  /**
   * A line another run (or another worker of this named run) is voicing is
   * waited for, polling every `waitPollMs`, then used as cached. Without it,
   * such a line is skipped. @default skipped
   */
  waitFor?: { sleep: Sleep; waitPollMs: number };
  /** A hold was made, settled or given back: the live view's money line. */
  onSpend?: () => void;
  events?: RunEvents;
  signal?: AbortSignal;
  /** Second Ctrl-C: cuts even a sent submit. */
  forceSignal?: AbortSignal;
}

/** Voices every job (at most `concurrency` at once); resolves to each key's outcome. */
export async function voiceLines(options: SpeechStageOptions): Promise<Map<string, SpeechResult>> {
  const { provider, renders, ledger, runId, clips, budgets, events, signal } = options;
  const limit = options.limit ?? pLimit(options.concurrency);
  const results = new Map<string, SpeechResult>();
  // Claims are leases: renewed while the stage runs, so a long wait is not taken for a dead run.
  const beat = setInterval(() => void renders.renew().catch(() => undefined), Math.max(1000, renders.leaseMs / 3));
  beat.unref?.();
  try {
    await Promise.all(
      options.jobs.map((job) =>
        limit(async () => {
          const result = await voiceOne(job);
          results.set(job.task.key, result);
          options.onSettled?.(job, result);
        }),
      ),
    );
  } finally {
    clearInterval(beat);
  }
  return results;

  async function voiceOne(job: SpeechWork): Promise<SpeechResult> {
    const { task } = job;
    const first = job.uses[0];
    const sceneId = `${first.sceneId}#line${first.line}`;
    let hold = 0;
    const done = (r: SpeechResult): SpeechResult => {
      if (hold > 0) options.onSpend?.();
      for (const use of job.uses) {
        events?.emitEvent({ type: 'speech', episode: use.episodeId, scene: use.sceneId, line: use.line, key: task.key, status: r.status, costUsd: use === first ? r.costUsd : 0, ...(r.error ? { error: r.error } : {}) });
      }
      return r;
    };
    if (signal?.aborted) return done({ key: task.key, status: 'interrupted', costUsd: 0 });
    const claim = await renders.claim({ key: task.key, inputs: job.inputs, episodeId: first.episodeId, sceneId, estimateUsd: job.usd });
    if (claim.kind === 'complete') {
      const found = await clips.fetch(claim.row, signal);
      if ('path' in found) return done({ key: task.key, status: 'cached', costUsd: 0 });
      // The audio is gone: a plain miss now (not a paid try held against the key); claimed again below.
      await renders.forget(task.key, found.problem);
      return voiceOne(job);
    }
    if (claim.kind === 'busy') {
      if (!options.waitFor) return done({ key: task.key, status: 'skipped', costUsd: 0, error: 'another run is voicing this line' });
      // Its holder is voicing it (or its lease runs out and the key is claimed here): nothing is paid while waiting.
      events?.emitEvent({ type: 'waiting', episode: first.episodeId, scene: first.sceneId, key: task.key, reason: 'another run is voicing this line' });
      try {
        await options.waitFor.sleep(options.waitFor.waitPollMs, signal);
      } catch {
        return done({ key: task.key, status: 'interrupted', costUsd: 0 });
      }
      return voiceOne(job);
    }
    const row = claim.row;
    // A submit that may have been billed is never sent again by a billed provider: a person looks first.
    if (provider.billed && (row.status === 'submitting' || row.status === 'ambiguous')) {
      await renders.release(task.key);
      return done({ key: task.key, status: 'held', costUsd: 0, error: 'an earlier submit of this line may have been billed; see `duologue status` (it is not sent again)' });
    }
    const resume = provider.resumable && row.status === 'in-flight' && row.prediction_id ? row.prediction_id : undefined;
    const budget = budgets.for(first.episodeId);
    // A resumed prediction was charged to the run that submitted it; a new one is held first.
    hold = resume || !provider.billed ? 0 : job.usd;
    if (hold > 0 && !(await budget.reserve(hold, task.key))) {
      hold = 0;
      await renders.release(task.key);
      return done({ key: task.key, status: 'skipped', costUsd: 0, error: 'over budget' });
    }
    if (hold > 0) options.onSpend?.();
    let sent = false;
    let predictionId = resume;
    try {
      if (!predictionId) {
        const submitted = await provider.submit(task, {
          signal,
          forceSignal: options.forceSignal,
          onSubmitting: async (s) => {
            if (!(await renders.markSubmitting(task.key, JSON.stringify(s)))) throw new TaskNotCreatedError('E_CACHE', `${first.episodeId}/${sceneId}: another run took this line over; not sent`);
            sent = true;
          },
          onNotSubmitted: async () => {
            sent = false;
            await renders.markPending(task.key);
          },
        });
        predictionId = submitted.predictionId;
        await renders.markInFlight(task.key, predictionId);
        await ledger.submitted(runId, { episodeId: first.episodeId, sceneId }, predictionId);
        if (hold > 0) await ledger.scene(runId, { episodeId: first.episodeId, sceneId, key: task.key, outcome: 'in-flight', costUsd: hold });
      }
      const result = await provider.wait(predictionId, task, { signal });
      if (result.status !== 'completed') {
        // A failed prediction is not billed: the hold goes back; the line is tried again by a later run.
        await renders.markFailed(task.key, result.error ?? 'failed', { refused: result.failure?.kind === 'moderation' || result.failure?.kind === 'input' });
        if (hold > 0) {
          await budget.release(hold, task.key);
          await ledger.scene(runId, { episodeId: first.episodeId, sceneId, key: task.key, outcome: 'failed', costUsd: 0, error: result.error });
        }
        return done({ key: task.key, status: 'failed', costUsd: 0, error: result.error });
      }
      let delivered;
      try {
        delivered = await provider.download(result, task, clipPath(clips.clipsDir, task.key), { signal });
        if (clips.shared) await clips.publish(task.key, delivered.path, signal);
      } catch (error) {
        if (isAbort(error)) throw error;
        // Completed is billed: the charge stands even though the audio is unusable.
        await renders.markFailed(task.key, failureDetail(error), { paid: {} });
        if (hold > 0) await settle(hold, 'failed', failureDetail(error));
        return done({ key: task.key, status: 'failed', costUsd: hold, error: failureDetail(error) });
      }
      await renders.markComplete(
        task.key,
        { path: delivered.path, sha256: delivered.sha256, bytes: delivered.bytes, videoSeconds: delivered.durationSeconds, billedSeconds: billedChars(task.spec.text), costUsd: hold },
        resume ? undefined : predictionId,
      );
      if (hold > 0) await settle(hold, 'rendered');
      return done({ key: task.key, status: 'voiced', costUsd: hold });
    } catch (error) {
      const message = failureDetail(error);
      if (!sent && !predictionId) {
        // Nothing was sent (or the answer proved no task): nothing was charged.
        if (hold > 0) await budget.release(hold, task.key);
        if (isAbort(error) || error instanceof TaskNotCreatedError) await renders.release(task.key);
        else await renders.markFailed(task.key, message);
        return done({ key: task.key, status: isAbort(error) ? 'interrupted' : 'failed', costUsd: 0, error: isAbort(error) ? undefined : message });
      }
      if (predictionId) {
        // Submitted: the prediction id is recorded; the next run resumes it. Its hold stays spent (it will bill).
        await renders.release(task.key);
        if (hold > 0) await settle(hold, 'in-flight');
        return done({ key: task.key, status: isAbort(error) ? 'interrupted' : 'failed', costUsd: hold, error: isAbort(error) ? undefined : message });
      }
      // Sent without an answer: it may have been billed. Held, counted as spent, never resent.
      await renders.markFailed(task.key, message, { status: 'ambiguous' });
      if (hold > 0) await settle(hold, 'failed', message);
      return done({ key: task.key, status: 'held', costUsd: hold, error: error instanceof AmbiguousSubmitError || !isAbort(error) ? message : 'stopped while the submit was open: it may have been billed' });
    }

    async function settle(usd: number, outcome: 'rendered' | 'failed' | 'in-flight', error?: string): Promise<void> {
      await budget.settle(usd, usd, task.key);
      await ledger.scene(runId, { episodeId: first.episodeId, sceneId, key: task.key, outcome, costUsd: usd, ...(error ? { error } : {}) });
    }
  }
}
