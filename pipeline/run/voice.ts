/**
 * Render's speech step: before any video is submitted, voice the lines
 * written as text of the episodes the budget admits (on their estimated,
 * bound lengths), then plan again on the real audio. The money of both
 * stages is one run's: speech is held against the same caps, and what it
 * spent is carried into the video budget, so spent + reserved stays within
 * the cap across both.
 */
import { roundUsd } from '../cost/estimate.ts';
import { DuologueError } from '../errors.ts';
import type { RenderStore, RunLedger } from '../cache/interfaces.ts';
import type { ClipStore } from '../cache/clips/index.ts';
import type { RunEvents } from '../events.ts';
import type { Plan } from '../plan/index.ts';
import type { SpeechProvider } from '../providers/speech-types.ts';
import { Budgets } from '../schedule/budget.ts';
import { voiceLines, type SpeechWork } from '../schedule/speech.ts';
import type { ManifestPlan } from './plan-manifests.ts';
import type { LineReport } from './speech.ts';

export interface SpeechStep {
  /** The plan on the voiced audio (the input one when nothing was voiced). */
  manifests: ManifestPlan;
  /** Per line: text, voice, what its speech cost this run, how it ended. */
  lines: LineReport[];
  /** Speech spend of this run, by episode (its first admitted use). */
  spentByEpisode: Map<string, number>;
  spentUsd: number;
}

export interface SpeechStepOptions {
  manifests: ManifestPlan;
  /** Plans again (the lines voiced now hit), with the speech spend held in the caps and unvoiced scenes skipped. */
  replan: (spentUsd: ReadonlyMap<string, number>) => Promise<ManifestPlan>;
  /** Made only when there is something to voice. */
  provider: () => SpeechProvider;
  renders: RenderStore;
  ledger: Pick<RunLedger, 'scene' | 'submitted'>;
  /** The run's ledger id; none (a named run, joined later) cannot voice yet. */
  runId: number | undefined;
  clips: ClipStore;
  concurrency: number;
  events?: RunEvents;
  signal?: AbortSignal;
  forceSignal?: AbortSignal;
}

export async function speakFirst(options: SpeechStepOptions): Promise<SpeechStep> {
  const { manifests } = options;
  const speech = manifests.prepared.speech;
  const wanted = new Set(manifests.series.episodes.map((e) => e.id));
  const lines = (speech?.lines ?? []).filter((l) => wanted.has(l.episodeId));
  const jobs = (speech?.jobs ?? []).map((j) => ({ ...j, uses: j.uses.filter((u) => wanted.has(u.episodeId)) })).filter((j) => j.uses.length > 0);
  if (jobs.length === 0) return { manifests, lines, spentByEpisode: new Map(), spentUsd: 0 };
  const runId = options.runId;
  if (runId === undefined) {
    throw new DuologueError('E_USAGE', `${jobs.length} line${jobs.length === 1 ? '' : 's'} written as text still to voice: a named run (--run) cannot voice lines yet; voice them with one render without --run first`);
  }

  // Admission on the estimate: an episode is voiced only if its speech and its video's bound fit.
  const draft = options.manifests.planWith();
  const admitted = new Set(draft.episodes.filter((e) => e.admitted).map((e) => e.id));
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
  const provider = options.provider();
  let results;
  try {
    results = await voiceLines({
      jobs: work,
      provider,
      renders: options.renders,
      ledger: options.ledger,
      runId,
      clips: options.clips,
      budgets: new Budgets(draft),
      concurrency: options.concurrency,
      events: options.events,
      signal: options.signal,
      forceSignal: options.forceSignal,
    });
  } finally {
    await provider.close?.();
  }
  const spentByEpisode = new Map<string, number>();
  for (const job of work) {
    const usd = results.get(job.task.key)?.costUsd ?? 0;
    if (usd > 0) spentByEpisode.set(job.uses[0].episodeId, roundUsd((spentByEpisode.get(job.uses[0].episodeId) ?? 0) + usd));
  }
  const firstUse = new Map(work.map((j) => [j.task.key, j.uses[0]]));
  const reported = lines.map((l): LineReport => {
    if (l.status !== 'pending') return l;
    const r = results.get(l.key);
    if (!r) return { ...l, status: 'skipped', error: 'over budget' };
    const first = firstUse.get(l.key);
    const mine = first?.episodeId === l.episodeId && first.sceneId === l.sceneId && first.line === l.line;
    return { ...l, status: r.status, usd: mine ? r.costUsd : 0, ...(r.error ? { error: r.error } : {}) };
  });
  const spentUsd = roundUsd([...spentByEpisode.values()].reduce((a, b) => a + b, 0));
  // Planned again even when stopped: a scene whose line is still text must never reach a video submit.
  const replanned = await options.replan(spentByEpisode);
  return { manifests: replanned, lines: reported, spentByEpisode, spentUsd };
}

/** The video stage's budgets, with what the speech stage spent already counted in each episode's cap. */
export function budgetsAfterSpeech(plan: Plan, spentByEpisode: ReadonlyMap<string, number>): Budgets {
  const budgets = new Budgets(plan);
  for (const [episodeId, usd] of spentByEpisode) budgets.for(episodeId).carry(usd);
  return budgets;
}
