import { OutputError } from '../errors.ts';
import { ffprobe, type FfmpegPaths } from './ffmpeg.ts';

/** How far a delivered clip's length may be from the planned video length. */
export const CLIP_DURATION_TOLERANCE_S = 0.5;

/**
 * Checks a delivered clip before it is trusted: it decodes, has a video and
 * an audio stream, and lasts what the plan said (±0.5 s). Returns its length.
 */
export async function verifyClip(
  file: string,
  expectedSeconds: number,
  ffmpeg: FfmpegPaths,
  label: string,
  signal?: AbortSignal,
): Promise<number> {
  let probe;
  try {
    probe = await ffprobe(file, ffmpeg, signal);
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new OutputError(`${label}: the delivered clip is not a readable mp4 (truncated or wrong type)`, { cause });
  }
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  if (!video || !audio) {
    throw new OutputError(`${label}: the delivered clip lacks ${!video ? 'a video' : 'an audio'} stream`);
  }
  const duration = Number(probe.format.duration ?? video.duration);
  if (!Number.isFinite(duration)) throw new OutputError(`${label}: the delivered clip has no readable duration`);
  if (Math.abs(duration - expectedSeconds) > CLIP_DURATION_TOLERANCE_S) {
    throw new OutputError(
      `${label}: the delivered clip lasts ${duration.toFixed(2)} s, expected ${expectedSeconds.toFixed(2)} s (±${CLIP_DURATION_TOLERANCE_S} s)`,
    );
  }
  return duration;
}
