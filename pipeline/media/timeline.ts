import type { MediaFacts } from './facts.ts';
import type { SceneSpec, Side } from '../types.ts';
import { sha256Text } from './hash.ts';

/** One clip placed on a track: source file, where it starts, how long it runs. */
export interface Placement {
  side: Side;
  location: string;
  /** Where the bytes are on this machine (a downloaded copy for URL inputs). */
  localPath: string;
  sha256: string;
  startMs: number;
  durationMs: number;
}

/**
 * What is sent to the API as one side's audio:
 * - `file`: the input file's bytes, unchanged;
 * - `built`: a track assembled from placements (dialogue lines) padded with
 *   silence to `durationMs`;
 * - `silence`: the listener's side of a one-voice scene;
 * - `trimmed`: `durationMs` of a file or built track from `startMs` on
 *   (`trim: edges`), silence past the source's end, at the source's rate.
 */
export type TrackSpec =
  | { kind: 'file'; location: string; localPath: string; sha256: string; durationMs: number }
  | { kind: 'built'; placements: Placement[]; durationMs: number }
  | { kind: 'silence'; durationMs: number }
  | { kind: 'trimmed'; source: TrimSource; startMs: number; durationMs: number; sampleRate: number; channels: number };

export type TrimSource = Extract<TrackSpec, { kind: 'file' | 'built' }>;

export interface SceneTracks {
  left: TrackSpec;
  right: TrackSpec;
}

/** Version of the track-building recipe; bump when built bytes would change. */
export const TRACK_RECIPE_VERSION = 1;

/** Version of the trimming recipe (media/tracks.ts trimArgs); bump when trimmed bytes would change. */
export const TRIM_RECIPE_VERSION = 1;

/**
 * Lays out a scene's audio. For `lines`: each line starts after the previous
 * one ends plus its pause; both tracks last the whole dialogue, silent where
 * the other side speaks. Pure; durations in whole milliseconds.
 */
export function sceneTracks(scene: SceneSpec, media: ReadonlyMap<string, MediaFacts>): SceneTracks {
  const audio = (location: string) => {
    const facts = media.get(location);
    if (!facts || facts.kind !== 'audio') throw new Error(`internal: no audio facts for ${location}`);
    return facts;
  };
  if (scene.audio.form === 'pair') {
    const { left, right } = scene.audio;
    const l = left ? audio(left.location) : undefined;
    const r = right ? audio(right.location) : undefined;
    const fileTrack = (location: string, f: { sha256: string; localPath: string; durationMs: number }): TrackSpec => ({
      kind: 'file',
      location,
      localPath: f.localPath,
      sha256: f.sha256,
      durationMs: f.durationMs,
    });
    const other = (l ?? r)!.durationMs;
    return {
      left: l ? fileTrack(left!.location, l) : { kind: 'silence', durationMs: other },
      right: r ? fileTrack(right!.location, r) : { kind: 'silence', durationMs: other },
    };
  }
  const placements: Placement[] = [];
  let cursor = 0;
  for (const line of scene.audio.lines) {
    cursor += line.pauseMs;
    const f = audio(line.media.location);
    placements.push({ side: line.side, location: line.media.location, localPath: f.localPath, sha256: f.sha256, startMs: cursor, durationMs: f.durationMs });
    cursor += f.durationMs;
  }
  const track = (side: Side): TrackSpec => {
    const mine = placements.filter((p) => p.side === side);
    return mine.length === 0 ? { kind: 'silence', durationMs: cursor } : { kind: 'built', placements: mine, durationMs: cursor };
  };
  return { left: track('left'), right: track('right') };
}

/**
 * The identity of a track's bytes as sent. For a file, its sha256. A built or
 * silent track is a pure function of its recipe (same inputs, same bytes), so
 * the recipe's hash identifies it without building it at plan time.
 */
export function trackIdentity(track: TrackSpec): string {
  if (track.kind === 'file') return track.sha256;
  if (track.kind === 'trimmed') {
    // The trim is part of the recipe, so of the cache key: trimmed and untrimmed renders never share a key.
    const { startMs, durationMs, sampleRate, channels } = track;
    return `built:${sha256Text(JSON.stringify({ trim: TRIM_RECIPE_VERSION, source: trackIdentity(track.source), startMs, durationMs, sampleRate, channels }))}`;
  }
  const recipe =
    track.kind === 'silence'
      ? { recipe: TRACK_RECIPE_VERSION, silenceMs: track.durationMs }
      : {
          recipe: TRACK_RECIPE_VERSION,
          durationMs: track.durationMs,
          placements: track.placements.map((p) => ({ sha256: p.sha256, startMs: p.startMs, durationMs: p.durationMs })),
        };
  return `built:${sha256Text(JSON.stringify(recipe))}`;
}
