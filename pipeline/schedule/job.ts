import { billedSeconds, chargeFor as chargeForSeconds, costUsd, toMillis } from '../cost/estimate.ts';
import { AmbiguousSubmitError, ClaimLostError, abortError, DuologueError, NotSubmittedError, OutputError, PredictionGoneError, StoreError, TaskNotCreatedError, failureDetail, isAbort } from '../errors.ts';
import type { CapBudget } from './budget.ts';
import { clipPath, type ClipRow, type ClipStore } from '../cache/clips/index.ts';
import { localClipStore } from '../cache/clips/local.ts';
import type { RenderRow, Store, StoreParts } from '../cache/interfaces.ts';
import type { RunEvents } from '../events.ts';
import { sha256File } from '../media/hash.ts';
import type { PlannedScene } from '../plan/index.ts';
import type { Provider } from '../providers/types.ts';
import { EXITS, type Exit, type ExitName } from './exits.ts';
import { closedRecord, findLostAnswer, sendState, sentAtOnStore, type LostAnswer, type RecordedSubmit, type SendState } from './lost-answer.ts';
import { ownerGone } from '../cache/owner.ts';

/**
 * `costUsd` is what this run is charged for the outcome: the prediction's
 * charge is counted once, by the run that submitted it (a later run that
 * collects its clip is charged nothing).
 */
export type JobOutcome =
  | { outcome: 'rendered'; clip: string; costUsd: number; processingSeconds: number; note?: string }
  /** `remote`: the clip is left in the shared store, not downloaded yet (`clip` is where `clips.fetch(remote)` puts it). */
  | { outcome: 'cached'; clip: string; remote?: ClipRow }
  /** `stops`: the run stops on this error (a 401) after booking this outcome, charge and all. */
  | { outcome: 'failed'; error: string; code: string; costUsd: number; stops?: DuologueError }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'interrupted'; costUsd: number }
  /** Another live run holds the key: ask again later. */
  | { outcome: 'busy' };

/** Paid predictions per key without a usable clip before the key is held. */
export const MAX_PAID_ATTEMPTS = 2;

/** Runs in a row that could not fetch a finished prediction's output before a person is asked. */
export const MAX_OUTPUT_MISSES = 3;

/**
 * A submit's first byte leaves within this share of the claim's lease after
 * its fencing token was checked, or it is not sent (send-gate.ts): half, so a
 * worker paused between the check and the write cannot send once its lease
 * (renewed by that check) may have lapsed, with room for clock drift.
 */
export const SEND_WINDOW_OF_LEASE = 0.5;

export interface JobDeps {
  provider: Provider;
  store: Store;
  /** The cap this scene's spend counts against. */
  budgetFor: (scene: PlannedScene) => CapBudget;
  events: RunEvents;
  clipsDir: string;
  /** Where complete clips are kept for every machine (default: `clipsDir` alone, this machine's). */
  clips?: ClipStore;
  /**
   * A key another worker completed is not downloaded from the shared clip store here, only checked
   * there: the worker that stitches its episode downloads it (one download per episode, not one per
   * worker). @default false: every complete key's clip is made local
   */
  deferSharedClips?: boolean;
  /** Resubmit keys whose last submit was ambiguous (the user checked the bill). */
  retryAmbiguous: boolean;
  /** Submit keys held after MAX_PAID_ATTEMPTS paid predictions without a usable clip. */
  retryHeld: boolean;
  now: () => number;
  /** Cuts even an open submit request (the second Ctrl-C); the run's stop signal lets it finish. */
  forceSignal?: AbortSignal;
  /** The provider took a task this run submitted: its worst-case charge is this run's from now on (written in `tx`, with the claim's state). */
  onCharged: (tx: StoreParts, scene: PlannedScene, usd: number) => Promise<void>;
  /** The prediction this run's submit created (the run's books name it, for reconciling with the invoice), written in `tx` with the id. */
  onSubmitted?: (tx: StoreParts, scene: PlannedScene, predictionId: string) => Promise<void>;
  /** Emits the run's money totals. */
  spend: () => void;
  /** The key's clip is complete: written in `tx`, the completion's transaction (the run's books for it). */
  onRendered?: (tx: StoreParts, scene: PlannedScene, r: { costUsd: number; note?: string }) => Promise<void>;
}

const LOST = Symbol('claim lost');

/**
 * One cache key, from claim to clip. Every state change is written before
 * the next step, so a crash at any point leaves a state the next run can
 * resume from without paying twice.
 */
export async function runJob(scene: PlannedScene, deps: JobDeps, signal: AbortSignal): Promise<JobOutcome> {
  const { store, events } = deps;
  const renders = store.renders;
  const clips = deps.clips ?? localClipStore(deps.clipsDir);
  const at = { episode: scene.episodeId, scene: scene.sceneId, key: scene.key };
  for (;;) {
    if (signal.aborted) return { outcome: 'interrupted', costUsd: 0 };
    const claim = await renders.claim({ key: scene.key, inputs: scene.keyInputs, episodeId: scene.episodeId, sceneId: scene.sceneId, estimateUsd: scene.estimateUsd });
    if (claim.kind === 'complete') {
      if (deps.deferSharedClips && clips.shared) {
        // Checked (a HEAD, or this machine's copy), not downloaded: the episode's stitcher fetches it.
        const problem = await clips.problem(claim.row, signal);
        if (problem === undefined) return { outcome: 'cached', clip: clipPath(clips.clipsDir, scene.key), remote: claim.row };
      }
      // From this machine's cache dir, or downloaded (and checked) from the shared store.
      const clip = await clips.fetch(claim.row, signal);
      if ('path' in clip) {
        // The cache was moved. A shared row keeps its path: each machine finds the clip in its own cache dir first.
        if (clip.path !== claim.row.clip_path && !clips.shared) await renders.relocate(scene.key, clip.path);
        return { outcome: 'cached', clip: clip.path };
      }
      if (clips.shared) {
        // Not forgotten on this machine's word: a mistyped --clips prefix, or the wrong bucket, looks
        // exactly like every clip gone, and forgetting would pay for each one again. A person decides.
        throw new DuologueError(
          'E_STORE',
          `${scene.episodeId}/${scene.sceneId}: ${clip.problem}, though the shared store records it complete; not rendered again on a guess (check --clips / DUOLOGUE_CLIPS). If it is really gone, delete any damaged object and run "duologue cache verify --fix" with the same --store and --clips: the next render pays for it again`,
        );
      }
      await renders.forget(scene.key, clip.problem); // a hit whose file is gone or damaged is a miss
      continue;
    }
    // Another live run has it: the scheduler waits for its outcome without holding a concurrency slot.
    if (claim.kind === 'busy') return { outcome: 'busy' };
    const outcome = await work(claim.row);
    if (outcome !== LOST) return outcome;
    events.emitEvent({ type: 'warning', message: `${scene.episodeId}/${scene.sceneId}: another run took this key over while this one was paused; not submitted, waiting for its outcome` });
  }

  async function work(row: RenderRow): Promise<JobOutcome | typeof LOST> {
    const budget = deps.budgetFor(scene);
    let predictionId = row.status === 'in-flight' ? row.prediction_id : null;
    /** Held for a submit of this run; 0 when resuming one an earlier run paid for. */
    let reserved = 0;
    // A free render is simply done again when interrupted; only a billed one is looked up, held or kept.
    const caps = deps.provider.info.capabilities;
    /** Why this scene is submitted again after a submit whose answer was lost (recorded in the ledger). */
    let note: string | undefined;
    if (!predictionId && (row.status === 'submitting' || row.status === 'ambiguous') && caps.ambiguousSubmits) {
      // An earlier submit's answer never came: find its task before anything is paid again.
      // Only a submit that never got its answer is looked up: a key whose last submit was answered
      // (its prediction's output never came, say) is not a lost answer, and a person decides.
      const recorded = row.submit_sent ? (JSON.parse(row.submit_sent) as RecordedSubmit) : undefined;
      const answered = row.prediction_id !== null && row.submitted_at !== null && recorded !== undefined && sentAtOnStore(recorded) <= row.submitted_at; // both on the store's clock
      const now = deps.now();
      const state: SendState | undefined = recorded && !answered ? sendState(recorded, now, ownerGone, renders.clock.now() - now) : undefined;
      const lost: LostAnswer = answered ? { kind: 'unknown' } : await findLost(row.submit_sent, row.error ?? 'the run stopped mid-submit', state?.kind === 'settled' ? state.latestSend : undefined);
      if (state?.kind === 'open' && lost.kind !== 'found' && !deps.retryAmbiguous) {
        // Its sender may be paused with its request open: its task may still appear at any time, so no
        // number of empty looks proves a new submit would be the only one (a task found is attached as
        // ever). Held (a hold it left on a named run's books counted as spent), until the sender records the end.
        const held = budget.adopt ? await budget.adopt(scene.key) : 0;
        if (held > 0) deps.spend();
        const host = state.sender.split(':')[0];
        return end('sender may still be sending', held, {
          stored: `held: the submit of ${state.sender} may still be open`,
          error: `held: the worker on ${host} that submitted this scene stopped renewing its claim in the middle of its submit and never recorded the request's end; it may only be paused, its request still open, so a new submit could be paid twice. Not submitted. This resolves itself once that worker runs again (it records the end, or the task's id); if that machine is gone for good, check the ${deps.provider.info.label} dashboard: if the task is there, run "duologue cache attach ${scene.key.slice(0, 12)} PREDICTION_ID"; if not, run with --retry-ambiguous`,
          code: 'E_HELD',
        });
      }
      if (lost.kind === 'found') {
        await renders.markInFlight(scene.key, lost.id);
        predictionId = lost.id;
        note = `its earlier submit's answer was lost; found as prediction ${lost.id} in the provider's list`;
      } else if (lost.kind === 'absent') {
        note = lost.why;
      } else if (!deps.retryAmbiguous) {
        return end('earlier submit unanswered', 0, {
          stored: row.error ?? 'interrupted mid-submit',
          error: `an earlier submit of this scene ended without an answer (${row.error ?? 'the run stopped mid-submit'}); it may have been billed${lost.why ? ` and ${lost.why}` : ''}, so it is not resubmitted. Check the ${deps.provider.info.label} dashboard: if the task is there, run "duologue cache attach KEY PREDICTION_ID" (keys: duologue status); if not, run with --retry-ambiguous`,
          code: 'E_API',
        });
      } else {
        // The user chose to pay again: the ledger says so, and after what.
        note = `submitted again (--retry-ambiguous) after: ${row.error ?? 'a submit that ended without an answer'}`;
      }
    }
    if (!predictionId && row.refused && !deps.retryHeld) {
      return end('refused before', 0, {
        error: `refused by the provider for what the scene is (${row.error ?? 'no reason given'}); change the scene (prompt, image, audio or seed) to try again, or run with --retry-held`,
        code: 'E_REFUSED',
      });
    }
    const retention = deps.provider.predictionRetentionMs;
    // On the store's clock, as `submitted_at` is: a machine whose own clock runs days ahead must not take a live prediction for expired.
    if (predictionId && retention !== undefined && row.submitted_at !== null && renders.clock.now() - row.submitted_at > retention) {
      // The provider has deleted it and its output: polling could only fail. Rendering it again is paid again, so it is left to the next run.
      const days = Math.round(retention / 86_400_000);
      return end('prediction expired', 0, {
        stored: `prediction ${predictionId} expired at the provider (kept ${days} days)`,
        error: `prediction ${predictionId} expired at the provider (predictions are kept ${days} days) before its clip was collected; the next render renders it again (paid again)`,
        code: 'E_API',
      });
    }
    if (!predictionId && caps.billed && (row.paid_attempts ?? 0) >= MAX_PAID_ATTEMPTS && !deps.retryHeld) {
      return end('held', 0, {
        stored: row.error ?? 'held',
        error: `held: paid ${row.paid_attempts} times without a usable clip (last: ${row.error ?? 'unknown'}); not paid again. Run with --retry-held to try once more`,
        code: 'E_HELD',
      });
    }
    let submitting = false;
    let lastSent: string | undefined;
    const started = deps.now();

    /** The request of the submit last recorded is over: said in the store, so a run that takes the key over knows. */
    const closeSent = async (): Promise<void> => {
      if (lastSent === undefined) return;
      const closed = closedRecord(lastSent, deps.now());
      // Not saying so only makes another run hold the key: never let it hide the submit's own outcome.
      if (await renders.closeSubmit(scene.key, lastSent, closed).catch(() => false)) lastSent = closed;
    };

    /** One submit request (the provider retries what proves no task was created). */
    const submitOnce = async () => {
      try {
        return await submitRequest();
      } catch (error) {
        // Sent and ended without an id (cut, or an answer that cannot be read): the request is over.
        if (submitting) await closeSent();
        throw error;
      }
    };
    const submitRequest = () =>
      deps.provider.submit(scene, {
        signal,
        forceSignal: deps.forceSignal,
        sendWindowMs: renders.leaseMs * SEND_WINDOW_OF_LEASE,
        // From here the task may be billed: the run's books carry the hold (a run killed now still shows it).
        onSubmitting: async (sent) => {
          // The account refused a submit for lack of money since this one took its turn: nothing more is sent.
          if (budget.refusal !== undefined) throw new NotSubmittedError(budget.refusal);
          // Who sent it: a run that takes the key over judges whether its request can still be open.
          lastSent = JSON.stringify({ ...sent, sender: renders.owner, storeOffset: renders.clock.now() - deps.now() } satisfies RecordedSubmit);
          const sentJson = lastSent;
          await store.transaction(async (tx) => {
            // Looked at again as the write runs: a stop, or the account's refusal of another submit,
            // that came while it waited for its group (a turn later) still keeps the request from going out.
            if (signal.aborted) throw abortError(signal);
            if (budget.refusal !== undefined) throw new NotSubmittedError(budget.refusal);
            if (!(await tx.renders.markSubmitting(scene.key, sentJson))) throw new ClaimLostError(scene.key);
            await deps.onCharged(tx, scene, reserved);
          });
          submitting = true;
        },
        // A 429 or a refused connection: no task, so a stop or crash while waiting to retry is clean.
        onNotSubmitted: async () => {
          const closed = lastSent === undefined ? undefined : closedRecord(lastSent, deps.now());
          await store.transaction(async (tx) => {
            await tx.renders.markPending(scene.key);
            // Said whoever holds the key now: this worker may have lost it while its request was cut unsent.
            if (closed !== undefined && (await tx.renders.closeSubmit(scene.key, lastSent!, closed))) lastSent = closed;
            await deps.onCharged(tx, scene, 0);
          });
          submitting = false;
        },
      });

    /**
     * Submits; when the answer is lost (reset, 5xx, unreadable), looks the task up in the provider's
     * list instead of guessing: found, it is this submit's. Otherwise the lost submit stands (it may
     * yet be billed, and its hold is counted as spent): a later run looks again before it submits.
     */
    const submitFindingLost = async (): Promise<{ predictionId: string; note?: string }> => {
      try {
        const { predictionId: id } = await submitOnce();
        submitting = false;
        return { predictionId: id, note };
      } catch (error) {
        if (!(error instanceof AmbiguousSubmitError) || signal.aborted) throw error;
        // Over as it failed (submitOnce said so): nothing of it is on its way after now, nor after its send deadline.
        const sendBy = lastSent === undefined ? undefined : (JSON.parse(lastSent) as RecordedSubmit).sendBy;
        const lost = await findLost(lastSent, (error as Error).message, Math.min(deps.now(), sendBy ?? Infinity));
        if (lost.kind === 'found') {
          submitting = false;
          return { predictionId: lost.id, note: `the submit's answer was lost; found as prediction ${lost.id} in the provider's list` };
        }
        if (lost.kind === 'absent') {
          // One run's two looks are not enough to pay again: the next run looks twice more first.
          throw new AmbiguousSubmitError('E_API', `${error.message}; the prediction list shows no such task yet, so the next run looks again before submitting it`);
        }
        throw error;
      }
    };

    /** Reserves the most it may cost and submits; false when it does not fit the budget. */
    const reserveAndSubmit = async (): Promise<boolean> => {
      // The most the provider may charge for it, beside what this cap already spent and holds. A key
      // whose last paid clip came back longer than the check accepts reserves at least what that one cost.
      const before = (row.paid_attempts ?? 0) > 0 && row.video_seconds ? chargeFor(row.video_seconds) : 0;
      const hold = Math.max(scene.maxUsd, before);
      if (reserved === 0) {
        // The in-process budget answers at once; a named run's answers from the store.
        const fits = budget.reserve(hold, scene.key);
        if (!(typeof fits === 'boolean' ? fits : await fits)) return false;
        reserved = hold;
        deps.spend();
      }
      const submitted = await submitFindingLost();
      if (submitted.note) note = submitted.note;
      predictionId = submitted.predictionId;
      // Shown before it is written: if the write fails, the id is still on screen and in the NDJSON log.
      events.emitEvent({ type: 'submitted', ...at, predictionId });
      try {
        const id = predictionId;
        await store.transaction(async (tx) => {
          await tx.renders.markInFlight(scene.key, id);
          await deps.onSubmitted?.(tx, scene, id);
        });
      } catch (cause) {
        throw new DuologueError(
          'E_CACHE',
          `${scene.episodeId}/${scene.sceneId}: prediction ${predictionId} was created but could not be recorded (${failureDetail(cause)}); once the cache can be written, run "duologue cache attach ${scene.key.slice(0, 12)} ${predictionId}" so it is collected, not paid again`,
          { cause },
        );
      }
      return true;
    };

    try {
      // Resumed (in flight, or found for an earlier run's lost submit): it may be done already, so it is looked at at once.
      const resumed = predictionId !== null;
      // A named run's worker that was killed or paused after submitting this key left its hold on the
      // run's books: taken over here, so the prediction's real charge is settled (or, when the provider's
      // list showed no task, the submit made again on it), not held (or given back as stale once the key
      // is pending again) for good.
      if (reserved === 0 && budget.adopt && (resumed || row.status === 'submitting' || row.status === 'ambiguous')) {
        reserved = await budget.adopt(scene.key);
        if (reserved > 0) deps.spend();
      }
      if (resumed) {
        events.emitEvent({ type: 'resumed', ...at, predictionId: predictionId! });
      } else if (!(await reserveAndSubmit())) {
        return end('over budget', 0, { error: budget.refusal ?? 'over budget' });
      }
      let result = await deps.provider.wait(predictionId!, scene, { signal, justSubmitted: !resumed });
      if (result.status === 'failed' && !caps.resumable && !caps.billed && row.status === 'in-flight') {
        // A render that died with an earlier process (it does not outlive it) costs nothing to redo.
        const again = await deps.provider.submit(scene, { signal });
        predictionId = again.predictionId;
        await renders.markInFlight(scene.key, predictionId);
        result = await deps.provider.wait(predictionId, scene, { signal });
      }
      // A failure on the provider's side, or an input it could not fetch, is tried once more in this run
      // (a failed prediction is not billed; a fetch failure re-uploads the inputs first).
      let kind = result.failure?.kind;
      if (result.status === 'failed' && (kind === 'server' || kind === 'fetch') && caps.billed) {
        events.emitEvent({ type: 'warning', message: `${scene.episodeId}/${scene.sceneId}: prediction ${predictionId} failed (${result.error ?? kind}); trying once more` });
        if (kind === 'fetch') await deps.provider.forgetUploads?.(scene);
        predictionId = null; // that one failed (not billed): what follows is about the new submit
        if (!(await reserveAndSubmit())) {
          return end('retry over budget', 0, { stored: result.error ?? 'failed', error: budget.refusal ?? 'over budget' });
        }
        result = await deps.provider.wait(predictionId!, scene, { signal, justSubmitted: true });
        kind = result.failure?.kind;
      }
      const id = predictionId!;
      if (result.status === 'failed') {
        // A failed prediction is not billed: the hold goes back. Refused for what the scene is
        // (moderation, bad input), it is not tried again until the scene changes (a new key).
        const refused = kind === 'moderation' || kind === 'input';
        const why = refused ? ` — refused for its ${kind === 'moderation' ? 'content' : 'inputs'}: not tried again until the scene changes (or --retry-held)` : '';
        return end(refused ? 'prediction refused' : 'prediction failed', reserved, {
          stored: result.error ?? 'failed',
          error: `prediction ${id} failed: ${result.error ?? 'no reason given'}${why}`,
          code: refused ? 'E_REFUSED' : 'E_API',
        });
      }
      const dest = clipPath(deps.clipsDir, scene.key);
      let delivered;
      try {
        delivered = await deps.provider.download(result, scene, dest, { signal });
      } catch (error) {
        if (isAbort(error) || error instanceof OutputError) throw error;
        return end('not downloaded', reserved, {
          error: `${(error as Error).message}; prediction ${predictionId} is kept and the next run downloads it`,
          code: (error as DuologueError).code ?? 'E_API',
        });
      }
      const billed = billedSeconds(toMillis(delivered.durationSeconds), deps.provider.info.prices);
      const cost = costUsd(billed, scene.resolution, deps.provider.info.prices);
      // Resumed from an earlier run: that run paid for it; this one only collects the clip.
      const charged = reserved > 0 ? cost : 0;
      // Shared with every machine before it counts: a clip that cannot be published leaves the
      // prediction in flight, and the next run collects it again at no charge (never pays again).
      let sha256: string;
      if (clips.shared) {
        try {
          sha256 = (await clips.publish(scene.key, delivered.path, signal)).sha256;
        } catch (error) {
          if (isAbort(error) || signal.aborted) throw error;
          return end('not downloaded', reserved, {
            error: `${(error as Error).message}; prediction ${predictionId} is kept and the next run collects its clip at no charge`,
            code: (error as DuologueError).code ?? 'E_STORE',
          });
        }
      } else {
        sha256 = delivered.sha256 ?? (await sha256File(delivered.path));
      }
      // The completion and the run's books in one commit: a crash before it leaves the prediction
      // in flight, and the next run collects its clip again at no charge.
      await store.transaction(async (tx) => {
        await tx.renders.markComplete(
          scene.key,
          { path: delivered.path, sha256, bytes: delivered.bytes, videoSeconds: delivered.durationSeconds, billedSeconds: billed, costUsd: cost },
          id,
        );
        await deps.onRendered?.(tx, scene, { costUsd: charged, note });
      });
      await budget.settle(reserved, charged, scene.key);
      deps.spend();
      const processingSeconds = (deps.now() - started) / 1000;
      events.emitEvent({ type: 'done', ...at, clip: delivered.path, videoSeconds: delivered.durationSeconds, costUsd: charged, processingSeconds });
      return { outcome: 'rendered', clip: delivered.path, costUsd: charged, processingSeconds, note };
    } catch (error) {
      // The cache cannot be written (E_CACHE, or its server is away: E_STORE): no bookkeeping is possible, the run stops.
      if (error instanceof StoreError || (error instanceof DuologueError && error.code === 'E_CACHE' && !(error instanceof ClaimLostError))) throw error;
      if (error instanceof NotSubmittedError) return end('not submitted', reserved, { error: error.reason });
      if (error instanceof ClaimLostError) return end('claim lost', reserved, { error: error.message });
      if (predictionId && error instanceof OutputError && !isAbort(error)) return await outputRefused(error, predictionId, reserved);
      if (predictionId && error instanceof PredictionGoneError) {
        // Nothing left to collect, and a new render may pay twice if this id was wrong: a person decides
        // (or the next run's lookup finds the task a lost submit really created).
        return end('prediction gone', reserved, {
          stored: error.message,
          error: `${error.message}. If the dashboard shows the right task for this scene, run "duologue cache attach ${scene.key.slice(0, 12)} PREDICTION_ID"; to render it again (paying again), run with --retry-ambiguous`,
          code: error.code,
        });
      }
      const taskNotCreated = !submitting || error instanceof TaskNotCreatedError;
      if (isAbort(error) || signal.aborted) {
        // Ctrl-C: keep what is recorded (an in-flight id is resumed next run, at no charge to it);
        // a submit cut mid-request stays "submitting": it may have been billed.
        if (!predictionId && taskNotCreated) return end('stopped before submit', reserved, { error: 'interrupted before submit' });
        return end('stopped after submit', reserved, { error: 'interrupted' });
      }
      const e = error as DuologueError;
      if (predictionId) {
        // Submitted and not known to have failed: keep the id, so the next run resumes it instead of paying again.
        const kept = await end('kept in flight', reserved, {
          error: e.code === 'E_DEADLINE' ? e.message : `${e.message ?? String(error)}; prediction ${predictionId} is kept and the next run resumes it`,
          code: e.code ?? 'E_API',
        });
        // The run stops, but this job's outcome (its charge: the task may be billed) is still booked.
        if (e.code === 'E_AUTH' && kept !== LOST && kept.outcome === 'failed') return { ...kept, stops: e };
        return kept;
      }
      // It may have been billed: counted as this run's charge, at worst (a run that later attaches the task pays nothing).
      if (e instanceof AmbiguousSubmitError) return end('submit unanswered', reserved, { error: e.message, code: e.code });
      const failed = await end('failed before task', reserved, { error: e.message ?? String(error), code: e.code ?? 'E_INTERNAL' });
      if (e.code === 'E_AUTH' || e.code === 'E_BALANCE') throw error; // the run stops submitting
      return failed;
    }
  }

  function findLost(sentJson: string | null | undefined, why: string, latestSend?: number): Promise<LostAnswer> {
    return findLostAnswer(deps, scene, sentJson, why, signal, latestSend);
  }

  /** The provider delivered nothing usable for a prediction: fetch it again later, or count it paid and unusable. */
  async function outputRefused(error: OutputError, predictionId: string, reserved: number): Promise<JobOutcome | typeof LOST> {
    if (error.unavailable && deps.provider.info.capabilities.billed) {
      // The render may be fine and is paid: keep it, the next run fetches it again at no charge —
      // up to a point: an output that is never there needs a person (re-rendering is paying again).
      const misses = await renders.missedOutput(scene.key);
      if (misses >= MAX_OUTPUT_MISSES) {
        return end('output never there', reserved, {
          stored: `${error.message} (${misses} times in a row)`,
          error: `${error.message}; prediction ${predictionId}'s output could not be fetched ${misses} times in a row. Look at it on the ${deps.provider.info.label} dashboard; to render the scene again (paying again) run with --retry-ambiguous`,
          code: error.code,
        });
      }
      return end('output missing', reserved, { error: `${error.message}; prediction ${predictionId} is kept and the next run fetches it again`, code: error.code });
    }
    // Paid, and unusable: only a new render can help. Charged what it delivered, when known.
    return end('output unusable', reserved, { error: error.message, code: error.code, deliveredSeconds: error.deliveredSeconds });
  }

  /**
   * Carries out one exit of the table: the claim's write, then the money held
   * (`held`: 0 when this run reserved nothing), then what the job reports.
   */
  async function end(
    name: ExitName,
    held: number,
    detail: { error: string; code?: string; stored?: string; deliveredSeconds?: number },
  ): Promise<JobOutcome | typeof LOST> {
    const exit: Exit = EXITS[name];
    const stored = detail.stored ?? detail.error;
    switch (exit.claim) {
      case 'keep':
        break;
      case 'release':
        await renders.release(scene.key);
        break;
      case 'failed':
        await renders.markFailed(scene.key, stored);
        break;
      case 'refused':
        await renders.markFailed(scene.key, stored, { refused: true });
        break;
      case 'paid-unusable':
        await renders.markFailed(scene.key, stored, deps.provider.info.capabilities.billed ? { paid: { deliveredSeconds: detail.deliveredSeconds } } : {});
        break;
      case 'ambiguous':
        await renders.markFailed(scene.key, stored, { status: 'ambiguous' });
        break;
      case 'ambiguous-forget':
        await renders.markFailed(scene.key, stored, { status: 'ambiguous', forgetPrediction: true });
        break;
    }
    const budget = deps.budgetFor(scene);
    let charged = 0;
    switch (exit.money) {
      case 'none':
        break;
      case 'release':
        await budget.release(held, scene.key);
        break;
      case 'charge-held':
        charged = held;
        break;
      case 'charge-delivered':
        charged = held > 0 && detail.deliveredSeconds !== undefined ? chargeFor(detail.deliveredSeconds) : held;
        break;
    }
    if (exit.money === 'charge-held' || exit.money === 'charge-delivered') await budget.settle(held, charged, scene.key);
    if (exit.money !== 'none') deps.spend();
    switch (exit.ends) {
      case 'lost':
        return LOST;
      case 'interrupted':
        return { outcome: 'interrupted', costUsd: charged };
      case 'skipped':
        return { outcome: 'skipped', reason: detail.error };
      case 'failed':
        return { outcome: 'failed', error: detail.error, code: detail.code ?? 'E_INTERNAL', costUsd: charged };
    }
  }

  function chargeFor(seconds: number): number {
    return chargeForSeconds(seconds, scene.resolution, deps.provider.info.prices);
  }
}
