/**
 * `trim: edges`: cut the silence before the first word and after the last
 * one, beyond a margin, from the tracks sent, so a scene crosses fewer
 * billing boundaries. Pure: the cut is worked out from measured edge silence
 * and becomes part of the track recipe (and so of the cache key).
 */
import type { MediaFacts } from './facts.ts';
import { trackSpan } from './speech-span.ts';
import { TRACK_RATE } from './tracks.ts';
import type { SceneTracks, TrackSpec } from './timeline.ts';
import type { Order } from '../types.ts';

type Facts = ReadonlyMap<string, MediaFacts>;

/**
 * The scene's tracks with edge silence beyond `marginMs` cut. Played together
 * (meanwhile), both tracks are cut by the same window so the speakers stay in
 * sync; played one after the other, each track is cut on its own. A track
 * with nothing to cut is returned as it was (same identity, same key).
 */
export function trimTracks(order: Order, tracks: SceneTracks, media: Facts, marginMs: number): SceneTracks {
  if (order !== 'meanwhile') return { left: trimAlone(tracks.left, media, marginMs), right: trimAlone(tracks.right, media, marginMs) };
  const length = Math.max(tracks.left.durationMs, tracks.right.durationMs);
  const spans = [trackSpan(tracks.left, media), trackSpan(tracks.right, media)].filter((s) => s !== undefined);
  if (spans.length === 0) return tracks;
  const startMs = Math.max(0, Math.min(...spans.map((s) => s.startMs)) - marginMs);
  const endMs = Math.min(length, Math.max(...spans.map((s) => s.endMs)) + marginMs);
  if (startMs === 0 && endMs === length) return tracks;
  return { left: cut(tracks.left, startMs, endMs - startMs, media), right: cut(tracks.right, startMs, endMs - startMs, media) };
}

function trimAlone(track: TrackSpec, media: Facts, marginMs: number): TrackSpec {
  const span = trackSpan(track, media);
  if (!span) return track;
  const startMs = Math.max(0, span.startMs - marginMs);
  const endMs = Math.min(track.durationMs, span.endMs + marginMs);
  if (startMs === 0 && endMs === track.durationMs) return track;
  return cut(track, startMs, endMs - startMs, media);
}

function cut(track: TrackSpec, startMs: number, durationMs: number, media: Facts): TrackSpec {
  if (track.kind === 'silence') return { kind: 'silence', durationMs };
  if (track.kind === 'trimmed') return cut(track.source, track.startMs + startMs, durationMs, media);
  // A file keeps its own rate and channels (only its length changes); built tracks are 16 kHz mono.
  const f = track.kind === 'file' ? media.get(track.location) : undefined;
  const sampleRate = f?.kind === 'audio' && f.sampleRate > 0 ? f.sampleRate : TRACK_RATE;
  const channels = f?.kind === 'audio' && f.channels > 0 ? f.channels : 1;
  return { kind: 'trimmed', source: track, startMs, durationMs, sampleRate, channels };
}
