import path from 'node:path';
import { billedSeconds, costUsd, toMillis } from '../cost/estimate.ts';
import { DuologueError, OutputError, isAbort } from '../errors.ts';
import type { Budget } from '../budget.ts';
import { clipProblem } from '../cache/lookup.ts';
import type { RenderRow, RenderStore } from '../cache/renders.ts';
import type { RunEvents } from '../events.ts';
import { sha256File } from '../media/hash.ts';
import type { PlannedScene } from '../plan.ts';
import type { Provider } from '../providers/types.ts';
import type { Sleep } from '../sleep.ts';

export type JobOutcome =
  | { outcome: 'rendered'; clip: string; costUsd: number; processingSeconds: number }
  | { outcome: 'cached'; clip: string }
  | { outcome: 'failed'; error: string; code: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'interrupted' };

export interface JobDeps {
  provider: Provider;
  store: RenderStore;
  budget: Budget;
  events: RunEvents;
  clipsDir: string;
  sleep: Sleep;
  /** How often to look at a key another live process is rendering. */
  waitPollMs: number;
  /** Resubmit keys whose last submit was ambiguous (the user checked the bill). */
  retryAmbiguous: boolean;
  now: () => number;
}

/** Path of a key's clip in the content-addressed store. */
export function clipPath(clipsDir: string, key: string): string {
  return path.join(clipsDir, key.slice(0, 2), `${key}.mp4`);
}

/**
 * One cache key, from claim to clip. Every state change is written before
 * the next step, so a crash at any point leaves a state the next run can
 * resume from without paying twice.
 */
export async function runJob(scene: PlannedScene, deps: JobDeps, signal: AbortSignal): Promise<JobOutcome> {
  const { store, events } = deps;
  const at = { episode: scene.episodeId, scene: scene.sceneId, key: scene.key };
  for (;;) {
    if (signal.aborted) return { outcome: 'interrupted' };
    const claim = store.claim({ key: scene.key, inputs: scene.keyInputs, episodeId: scene.episodeId, sceneId: scene.sceneId, estimateUsd: scene.estimateUsd });
    if (claim.kind === 'complete') {
      const problem = clipProblem(claim.row);
      if (!problem) return { outcome: 'cached', clip: claim.row.clip_path! };
      store.forget(scene.key, problem); // a hit whose file is gone or damaged is a miss
      continue;
    }
    if (claim.kind === 'busy') {
      events.emitEvent({ type: 'waiting', ...at, reason: 'another run is rendering this key' });
      try {
        await deps.sleep(deps.waitPollMs, signal);
      } catch {
        return { outcome: 'interrupted' };
      }
      continue;
    }
    return work(claim.row);
  }

  async function work(row: RenderRow): Promise<JobOutcome> {
    let predictionId = row.status === 'in-flight' ? row.prediction_id : null;
    let reserved = 0;
    // A local render costs nothing: an interrupted one is simply done again.
    const free = deps.provider.info.prices.pricePerBlock[scene.resolution] === 0;
    if (!predictionId && (row.status === 'submitting' || row.status === 'ambiguous') && !deps.retryAmbiguous && !free) {
      const error = `an earlier submit of this scene ended without an answer (${row.error ?? 'the run stopped mid-submit'}); it may have been billed, so it is not resubmitted. Check the WaveSpeed dashboard: if the task is there, run "duologue cache attach KEY PREDICTION_ID" (keys: duologue status); if not, run with --retry-ambiguous`;
      store.markFailed(scene.key, row.error ?? 'interrupted mid-submit', 'ambiguous');
      return fail(error, 'E_API');
    }
    let submitting = false;
    const started = deps.now();
    try {
      if (predictionId) {
        events.emitEvent({ type: 'resumed', ...at, predictionId });
      } else {
        reserved = scene.estimateUsd;
        if (!deps.budget.reserve(reserved)) {
          store.release(scene.key);
          return { outcome: 'skipped', reason: 'over budget' };
        }
        spend();
        const submitted = await deps.provider.submit(scene, {
          signal,
          onSubmitting: () => {
            submitting = true;
            store.markSubmitting(scene.key);
          },
        });
        predictionId = submitted.predictionId;
        submitting = false;
        store.markInFlight(scene.key, predictionId);
        events.emitEvent({ type: 'submitted', ...at, predictionId });
      }
      let result = await deps.provider.wait(predictionId, scene, { signal, justSubmitted: row.status !== 'in-flight' });
      if (result.status === 'failed' && deps.provider.info.id === 'local' && row.status === 'in-flight') {
        // A local render whose process died costs nothing to redo.
        const again = await deps.provider.submit(scene, { signal });
        predictionId = again.predictionId;
        store.markInFlight(scene.key, predictionId);
        result = await deps.provider.wait(predictionId, scene, { signal });
      }
      if (result.status === 'failed') {
        store.markFailed(scene.key, result.error ?? 'failed');
        deps.budget.release(reserved);
        spend();
        return fail(`prediction ${predictionId} failed: ${result.error ?? 'no reason given'}`, 'E_API');
      }
      const dest = clipPath(deps.clipsDir, scene.key);
      let delivered;
      try {
        delivered = await deps.provider.download(result, scene, dest, { signal });
      } catch (error) {
        if (isAbort(error)) throw error;
        // Paid either way. A bad or expired output can only be rendered again; any other
        // download failure keeps the prediction, and the next run downloads it at no charge.
        deps.budget.settle(reserved, reserved);
        spend();
        if (error instanceof OutputError) {
          store.markFailed(scene.key, error.message);
          return fail(error.message, error.code);
        }
        store.release(scene.key);
        return fail(`${(error as Error).message}; prediction ${predictionId} is kept and the next run downloads it`, (error as DuologueError).code ?? 'E_API');
      }
      const ms = toMillis(delivered.durationSeconds);
      const billed = billedSeconds(ms, deps.provider.info.prices);
      const cost = costUsd(billed, scene.resolution, deps.provider.info.prices);
      store.markComplete(scene.key, {
        path: delivered.path,
        sha256: delivered.sha256 ?? (await sha256File(delivered.path)),
        bytes: delivered.bytes,
        videoSeconds: delivered.durationSeconds,
        billedSeconds: billed,
        costUsd: cost,
      });
      deps.budget.settle(reserved, cost);
      spend();
      const processingSeconds = (deps.now() - started) / 1000;
      events.emitEvent({ type: 'done', ...at, clip: delivered.path, videoSeconds: delivered.durationSeconds, costUsd: cost, processingSeconds });
      return { outcome: 'rendered', clip: delivered.path, costUsd: cost, processingSeconds };
    } catch (error) {
      if (isAbort(error) || signal.aborted) {
        // Ctrl-C: keep what is recorded (an in-flight id is resumed next run); a submit cut mid-request stays "submitting".
        if (!predictionId && !submitting) {
          store.markFailed(scene.key, 'interrupted before submit');
          deps.budget.release(reserved);
        } else {
          store.release(scene.key);
        }
        return { outcome: 'interrupted' };
      }
      const e = error as DuologueError;
      if (predictionId) {
        // Submitted and not known to have failed: keep the id, so the next run resumes it instead of paying again.
        store.release(scene.key);
        if (e.code === 'E_AUTH') throw error;
        return fail(e.code === 'E_DEADLINE' ? e.message : `${e.message ?? String(error)}; prediction ${predictionId} is kept and the next run resumes it`, e.code ?? 'E_API');
      }
      if ((e as { ambiguous?: boolean }).ambiguous) {
        store.markFailed(scene.key, e.message, 'ambiguous');
        return fail(e.message, e.code); // the hold stays: it may have been billed
      }
      store.markFailed(scene.key, e.message ?? String(error));
      deps.budget.release(reserved);
      spend();
      if (e.code === 'E_AUTH') throw error;
      return fail(e.message ?? String(error), e.code ?? 'E_INTERNAL');
    }
  }

  function fail(error: string, code: string): JobOutcome {
    return { outcome: 'failed', error, code };
  }

  function spend(): void {
    events.emitEvent({ type: 'spend', reservedUsd: deps.budget.reservedUsd, spentUsd: deps.budget.spentUsd, budgetUsd: deps.budget.limitUsd ?? null });
  }
}
