import { OutputError } from '../errors.ts';
import { CLIP_DURATION_TOLERANCE_S } from '../cost/estimate.ts';
import { mp4InfoOf, readMp4Info } from './mp4-info.ts';

export { CLIP_DURATION_TOLERANCE_S };

/**
 * Checks a delivered clip before it is trusted: a whole mp4 (its boxes tile
 * the file, so a truncated download fails), with a video and an audio track,
 * lasting what the plan said (±0.5 s). Returns its length, as ffprobe would
 * report it. Reads the container directly: spawning ffprobe per clip cost
 * ~17 ms of CPU each, most of duologue's own time per scene (BENCHMARKS.md).
 */
export async function verifyClip(file: string | Buffer, expectedSeconds: number, label: string): Promise<number> {
  // The clip's bytes when the caller still has them in memory: no second read of the file.
  const info = typeof file === 'string' ? await readMp4Info(file).catch(() => undefined) : mp4InfoOf(file);
  // An error page or a cut-off body says nothing about the render: fetched again later, not paid again.
  if (!info) throw new OutputError(`${label}: the delivered clip is not a readable mp4 (truncated or wrong type)`, { unavailable: true });
  if (!info.hasVideo || !info.hasAudio) {
    throw new OutputError(`${label}: the delivered clip lacks ${!info.hasVideo ? 'a video' : 'an audio'} stream`);
  }
  const duration = info.durationSeconds;
  if (Math.abs(duration - expectedSeconds) > CLIP_DURATION_TOLERANCE_S) {
    throw new OutputError(
      `${label}: the delivered clip lasts ${duration.toFixed(2)} s, expected ${expectedSeconds.toFixed(2)} s (±${CLIP_DURATION_TOLERANCE_S} s)`,
      { deliveredSeconds: duration },
    );
  }
  return duration;
}
