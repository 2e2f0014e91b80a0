/**
 * The fingerprint an episode's stitch claim is keyed by: everything that
 * changes the episode's bytes or where they go. An unchanged episode written
 * to the same target has the same key, so it is done for every worker and
 * every later run; one changed scene, title, format setting or target is a
 * new key (stitched again). Pure.
 */
import { sha256Text } from '../media/hash.ts';
import type { EpisodeFormat } from './format.ts';

/** Bump when the stitched bytes for the same inputs would change (follow episode.ts's STITCH_VERSION). */
export const STITCH_KEY_VERSION = 1;

export interface StitchKeyInput {
  episodeId: string;
  title?: string;
  /** In episode order: each scene's clip identity (its cache key, or its slate's) and its chapter title. */
  scenes: readonly { identity: string; title: string }[];
  format: EpisodeFormat;
  /** `EpisodeOutputs.target(name)`: a bucket's URL, or a folder's path with its host. */
  target: string;
}

export function stitchKey(input: StitchKeyInput): string {
  const f = input.format;
  // Fixed order, as the cache key: the same inputs give the same text whatever built the objects.
  return sha256Text(
    JSON.stringify([
      STITCH_KEY_VERSION,
      input.episodeId,
      input.title ?? null,
      input.scenes.map((s) => [s.identity, s.title]),
      [f.resolution, f.width, f.height, f.fps, f.loudness, f.truePeak],
      input.target,
    ]),
  );
}
