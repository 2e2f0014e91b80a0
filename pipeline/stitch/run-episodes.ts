import { episodeOutput } from '../manifest/output-rules.ts';
import { isAbort } from '../errors.ts';
import { UP_TO_DATE, type RunEvent } from '../events.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import type { Plan, PlannedEpisode } from '../plan/index.ts';
import type { SceneResult, ScheduleResult } from '../schedule/index.ts';
import { stitchEpisode, type StitchInput, type StitchOptions, type StitchResult } from './episode.ts';
import { findFont } from './font.ts';
import { episodeFormat } from './format.ts';

export interface EpisodeOutcome {
  id: string;
  status: 'complete' | 'incomplete';
  output: string | null;
  /** The scene clips this episode has. */
  clips: string[];
  reason?: string;
  /**
   * `stitched` (written now), `up-to-date` (inputs unchanged, file untouched; or written by another
   * worker, `reason` says who), `elsewhere` (another worker of the run took it over and writes it) or
   * `failed` (not written; `reason` says why).
   */
  stitch?: 'stitched' | 'up-to-date' | 'elsewhere' | 'failed';
  /** Why the episode's file could not be written (with `stitch: 'failed'`). */
  error?: string;
}

export interface FinishOptions {
  outDir: string;
  workDir: string;
  ffmpeg: FfmpegPaths;
  signal?: AbortSignal;
  allowPartial?: boolean;
  provenance: Record<string, unknown>;
}

/** Writes one episode's file; today `stitchEpisode` (a local temp file renamed into place). */
export type EpisodeWriter = (input: StitchInput, options: StitchOptions) => Promise<StitchResult>;

/**
 * After scheduling, one episode after another (the order before episodes were
 * finished while rendering; kept to measure what that buys): each episode
 * whose scenes all have clips is stitched (or found up to date); with
 * `allowPartial`, the others too, slates in the gaps. Nothing is stitched
 * after an interruption or a refused key. An episode that cannot be written
 * (ffmpeg fails, its output is a directory...) is reported incomplete with
 * the reason; the others are still stitched. `onEpisode` hears each outcome
 * as it is settled.
 */
export async function finishEpisodes(
  plan: Plan,
  result: ScheduleResult,
  options: FinishOptions,
  onEpisode: (e: EpisodeOutcome) => void = () => {},
  write?: EpisodeWriter,
): Promise<EpisodeOutcome[]> {
  const episodes: EpisodeOutcome[] = [];
  for (const ep of plan.episodes) {
    const scenes = result.scenes.filter((s) => s.scene.episodeId === ep.id);
    const outcome = episodeOutcome(ep, scenes);
    if (!result.interrupted && !result.authError && (outcome.status === 'complete' || options.allowPartial)) await writeEpisode(ep, scenes, outcome, options, write);
    episodes.push(outcome);
    onEpisode(outcome);
  }
  return episodes;
}

/** What an episode's scenes say about it, before any file is written. Pure. */
export function episodeOutcome(ep: PlannedEpisode, scenes: readonly SceneResult[]): EpisodeOutcome {
  const missing = scenes.filter((s) => !s.clip);
  const outcome: EpisodeOutcome = { id: ep.id, status: missing.length === 0 ? 'complete' : 'incomplete', output: null, clips: scenes.flatMap((s) => (s.clip ? [s.clip] : [])) };
  if (missing.length > 0) outcome.reason = `${missing.length} scene${missing.length === 1 ? '' : 's'} without a clip (${[...new Set(missing.map((s) => s.error ?? s.outcome))].join('; ')})`;
  return outcome;
}

/**
 * Stitches one episode from its scenes' results into `outcome` (written, up
 * to date, or failed with the reason). An abort is thrown; any other failure
 * is this episode's only: its scenes are paid for and cached, the others
 * still get written.
 */
export async function writeEpisode(ep: PlannedEpisode, scenes: readonly SceneResult[], outcome: EpisodeOutcome, options: FinishOptions, write: EpisodeWriter = stitchEpisode): Promise<void> {
  try {
    const stitched = await write(stitchInput(ep, scenes, options), { workDir: options.workDir, ffmpeg: options.ffmpeg, signal: options.signal, fontFile: findFont() });
    if (stitched.status !== 'not-stitched') {
      outcome.output = stitched.output;
      outcome.stitch = stitched.status;
      if (stitched.note !== undefined) outcome.reason = stitched.note;
    }
  } catch (error) {
    if (isAbort(error)) throw error;
    outcome.status = 'incomplete';
    outcome.output = null;
    outcome.stitch = 'failed';
    outcome.error = (error as Error)?.message ?? String(error);
    outcome.reason = `${outcome.reason ? `${outcome.reason}; ` : ''}not written: ${outcome.error}`;
  }
}

export function stitchInput(ep: PlannedEpisode, scenes: readonly SceneResult[], options: Pick<FinishOptions, 'outDir' | 'allowPartial' | 'provenance'>): StitchInput {
  return {
    episodeId: ep.id,
    title: ep.title,
    output: episodeOutput(ep, options.outDir),
    format: episodeFormat(ep.scenes.map((s) => s.resolution), ep.format),
    allowPartial: options.allowPartial,
    scenes: scenes.map((s) => ({
      sceneId: s.scene.sceneId,
      title: s.scene.title,
      clip: s.clip,
      identity: s.scene.key,
      seed: s.scene.seed,
      expectedSeconds: s.scene.videoSeconds,
      missingReason: s.clip ? undefined : (s.error ?? s.outcome),
    })),
    provenance: options.provenance,
  };
}

/** The `episode` event for an outcome (the live view and the NDJSON log show it). */
export function episodeEvent(e: EpisodeOutcome): Extract<RunEvent, { type: 'episode' }> {
  const reason = e.reason ?? (e.stitch === 'up-to-date' ? UP_TO_DATE : undefined);
  return { type: 'episode', episode: e.id, status: e.status, output: e.output, reason };
}
