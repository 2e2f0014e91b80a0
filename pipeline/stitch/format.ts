import type { Resolution } from '../types.ts';

export const EPISODE_FPS = 25;
export const EPISODE_AUDIO_RATE = 48_000;
/** Samples per frame at 48 kHz / 25 fps: audio and video stay sample-aligned at every cut. */
export const SAMPLES_PER_FRAME = EPISODE_AUDIO_RATE / EPISODE_FPS;

export interface EpisodeFormat {
  resolution: Resolution;
  width: number;
  height: number;
  fps: number;
  /** Integrated loudness target, LUFS. */
  loudness: number;
  /** True-peak ceiling, dBTP. */
  truePeak: number;
}

const FRAME: Record<Resolution, { width: number; height: number }> = {
  '480p': { width: 854, height: 480 },
  '720p': { width: 1280, height: 720 },
};

/** Defaults: streaming loudness (−16 LUFS, −1.5 dBTP); broadcast users set −23. */
export const DEFAULT_LOUDNESS = -16;
export const DEFAULT_TRUE_PEAK = -1.5;

/** The episode's format: the highest scene resolution unless the manifest sets one. Pure. */
export function episodeFormat(
  sceneResolutions: Resolution[],
  set: { resolution?: Resolution; loudness?: number; truePeak?: number } = {},
): EpisodeFormat {
  const resolution = set.resolution ?? (sceneResolutions.includes('720p') ? '720p' : '480p');
  // The frame is even-sized; 854 is, and every clip is fit inside it with padding.
  return { resolution, ...FRAME[resolution], fps: EPISODE_FPS, loudness: set.loudness ?? DEFAULT_LOUDNESS, truePeak: set.truePeak ?? DEFAULT_TRUE_PEAK };
}
