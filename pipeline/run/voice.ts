/**
 * Render's speech stage, started beside the video scheduler: the lines
 * written as text of the episodes the plan admitted (on their estimated,
 * bound lengths) are queued first under the run's one concurrency cap, and
 * each scene is released to the video scheduler (through the SceneGate) as
 * soon as its last line is voiced. Speech and video hold and spend in the
 * same budgets, so spent + reserved stays within every cap across both: the
 * plan admitted each episode on its speech plus its video's upper bound, and
 * a scene's video reserves its exact cost when it is submitted.
 */
import type { LimitFunction } from 'p-limit';
import { roundUsd } from '../cost/estimate.ts';
import type { Plan, PlannedScene } from '../plan/index.ts';
import type { SpeechProvider } from '../providers/speech-types.ts';
import { SceneGate } from '../schedule/deferred.ts';
import { voiceLines, type SpeechResult, type SpeechStageOptions, type SpeechWork } from '../schedule/speech.ts';
import type { ManifestPlan } from './plan-manifests.ts';
import type { LineReport } from './speech.ts';

export interface SpeechStep {
  /** Per line: text, voice, what its speech cost this run, how it ended. */
  lines: LineReport[];
  spentUsd: number;
  /** What stopped the stage (the cache could not be written...): rethrown once the video has settled. */
  error?: unknown;
}

export interface SpeechRun {
  /** The scenes waiting for their lines, for the video scheduler (none when nothing is to voice). */
  gate?: SceneGate;
  /** Settles when every line is voiced (or not); never rejects (a failure releases every waiting scene as not voiced). */
  done: Promise<SpeechStep>;
}

/** What the speech stage takes as the scheduler's voiceLines does (the one shared concurrency cap required here), and the run's own parts. */
export interface SpeechRunOptions
  extends Pick<SpeechStageOptions, 'renders' | 'ledger' | 'runId' | 'clips' | 'budgets' | 'concurrency' | 'waitFor' | 'retryAmbiguous' | 'retryHeld' | 'events' | 'signal' | 'forceSignal'> {
  manifests: Pick<ManifestPlan, 'prepared' | 'series'>;
  /** The live speech price over the table's, accepted by the user (--accept-live-prices): each line is held and recorded at it. @default 1 */
  priceRatio?: number;
  /** The run's plan (the estimate for scenes whose lines are text): its admission says which lines are voiced. */
  plan: Plan;
  /** Gives released scenes their exact key and cost, in place (run/resolve-scenes.ts). */
  resolve: (scenes: PlannedScene[]) => Promise<void>;
  /** Made only when there is something to voice. */
  provider: () => SpeechProvider;
  limit: LimitFunction;
}

/** The text lines of the episodes asked for, and one job per speech key still to make (none: nothing to voice). */
export function speechJobs(manifests: Pick<ManifestPlan, 'prepared' | 'series'>): { jobs: SpeechWork[]; lines: LineReport[] } {
  const speech = manifests.prepared.speech;
  const wanted = new Set(manifests.series.episodes.map((e) => e.id));
  const lines = (speech?.lines ?? []).filter((l) => wanted.has(l.episodeId));
  const jobs = (speech?.jobs ?? []).map((j) => ({ ...j, uses: j.uses.filter((u) => wanted.has(u.episodeId)) })).filter((j) => j.uses.length > 0);
  return { jobs, lines };
}

export function startSpeech(options: SpeechRunOptions): SpeechRun {
  const listed = speechJobs(options.manifests);
  const ratio = options.priceRatio ?? 1;
  const lines = listed.lines;
  const jobs = ratio === 1 ? listed.jobs : listed.jobs.map((j) => ({ ...j, usd: roundUsd(j.usd * ratio) }));
  if (jobs.length === 0) return { done: Promise.resolve({ lines, spentUsd: 0 }) };

  // Admission is the plan's: a line is voiced only if its episode's speech and video bound fit.
  const admitted = new Set(options.plan.episodes.filter((e) => e.admitted).map((e) => e.id));
  const work: SpeechWork[] = [];
  const skipped: SpeechWork[] = [];
  for (const job of jobs) {
    // Paid for by its first admitted episode (the plan counted it there).
    const uses = [...job.uses.filter((u) => admitted.has(u.episodeId)), ...job.uses.filter((u) => !admitted.has(u.episodeId))];
    (admitted.has(uses[0].episodeId) ? work : skipped).push({ ...job, uses });
  }
  for (const job of skipped) {
    for (const use of job.uses) options.events?.emitEvent({ type: 'speech', episode: use.episodeId, scene: use.sceneId, line: use.line, key: job.task.key, status: 'skipped', costUsd: 0, error: 'over budget' });
  }
  const gate = new SceneGate(options.plan, options.resolve);
  const results = new Map<string, SpeechResult>();
  const { budgets, events } = options;
  const done = (async (): Promise<SpeechStep> => {
    let error: unknown;
    let provider: SpeechProvider | undefined;
    try {
      provider = work.length > 0 ? options.provider() : undefined;
      // Called before the scheduler's first lane takes a slot: every speech task is ahead of every video task in the queue.
      if (provider) {
        await voiceLines({
          jobs: work,
          provider,
          renders: options.renders,
          ledger: options.ledger,
          runId: options.runId,
          clips: options.clips,
          budgets,
          concurrency: options.concurrency,
          limit: options.limit,
          waitFor: options.waitFor,
          retryAmbiguous: options.retryAmbiguous,
          retryHeld: options.retryHeld,
          onSettled: (job, r) => {
            results.set(job.task.key, r);
            gate.settled(job.task.key, r.status === 'voiced' || r.status === 'cached');
          },
          onSpend: () => events?.emitEvent({ type: 'spend', reservedUsd: budgets.reservedUsd, spentUsd: budgets.spentUsd, budgetUsd: budgets.limitUsd ?? null }),
          events,
          signal: options.signal,
          forceSignal: options.forceSignal,
        });
      }
    } catch (e) {
      error = e;
    } finally {
      gate.close();
      await provider?.close?.();
    }
    return { ...report(lines, work, results), ...(error === undefined ? {} : { error }) };
  })();
  return { gate, done };
}

/** Per line, what its speech did this run; the stage's spend. */
function report(lines: LineReport[], work: SpeechWork[], results: ReadonlyMap<string, SpeechResult>): SpeechStep {
  let spentUsd = 0;
  for (const job of work) spentUsd += results.get(job.task.key)?.costUsd ?? 0;
  const firstUse = new Map(work.map((j) => [j.task.key, j.uses[0]]));
  const reported = lines.map((l): LineReport => {
    if (l.status !== 'pending') return l;
    const r = results.get(l.key);
    if (!r) return { ...l, status: 'skipped', error: 'over budget' };
    const first = firstUse.get(l.key);
    const mine = first?.episodeId === l.episodeId && first.sceneId === l.sceneId && first.line === l.line;
    return { ...l, status: r.status, usd: mine ? r.costUsd : 0, ...(r.error ? { error: r.error } : {}) };
  });
  return { lines: reported, spentUsd: roundUsd(spentUsd) };
}
