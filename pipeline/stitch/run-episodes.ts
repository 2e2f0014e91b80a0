import { episodeOutput } from '../manifest/output-rules.ts';
import { isAbort } from '../errors.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import type { Plan } from '../plan/index.ts';
import type { ScheduleResult } from '../schedule/index.ts';
import { stitchEpisode } from './episode.ts';
import { findFont } from './font.ts';
import { episodeFormat } from './format.ts';

export interface EpisodeOutcome {
  id: string;
  status: 'complete' | 'incomplete';
  output: string | null;
  /** The scene clips this episode has. */
  clips: string[];
  reason?: string;
  /** `stitched` (written now), `up-to-date` (inputs unchanged, file untouched) or `failed` (not written; `reason` says why). */
  stitch?: 'stitched' | 'up-to-date' | 'failed';
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

/**
 * After scheduling: each episode whose scenes all have clips is stitched (or
 * found up to date); with `allowPartial`, the others too, slates in the gaps.
 * Nothing is stitched after an interruption or a refused key. An episode that
 * cannot be written (ffmpeg fails, its output is a directory...) is reported
 * incomplete with the reason; the others are still stitched.
 */
export async function finishEpisodes(plan: Plan, result: ScheduleResult, options: FinishOptions): Promise<EpisodeOutcome[]> {
  const { outDir, ffmpeg } = options;
  const episodes: EpisodeOutcome[] = [];
  for (const ep of plan.episodes) {
    const scenes = result.scenes.filter((s) => s.scene.episodeId === ep.id);
    const missing = scenes.filter((s) => !s.clip);
    const output = episodeOutput(ep, outDir);
    const outcome: EpisodeOutcome = { id: ep.id, status: missing.length === 0 ? 'complete' : 'incomplete', output: null, clips: scenes.flatMap((s) => (s.clip ? [s.clip] : [])) };
    if (missing.length > 0) outcome.reason = `${missing.length} scene${missing.length === 1 ? '' : 's'} without a clip (${[...new Set(missing.map((s) => s.error ?? s.outcome))].join('; ')})`;
    if (!result.interrupted && !result.authError && (missing.length === 0 || options.allowPartial)) {
      try {
        const stitched = await stitchEpisode(
          {
            episodeId: ep.id,
            title: ep.title,
            output,
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
          },
          { workDir: options.workDir, ffmpeg, signal: options.signal, fontFile: findFont() },
        );
        if (stitched.status !== 'not-stitched') {
          outcome.output = stitched.output;
          outcome.stitch = stitched.status;
        }
      } catch (error) {
        if (isAbort(error)) throw error;
        // This episode only: its scenes are paid for and cached; the others still get written.
        outcome.status = 'incomplete';
        outcome.output = null;
        outcome.stitch = 'failed';
        outcome.error = (error as Error)?.message ?? String(error);
        outcome.reason = `${outcome.reason ? `${outcome.reason}; ` : ''}not written: ${outcome.error}`;
      }
    }
    episodes.push(outcome);
  }
  return episodes;
}
