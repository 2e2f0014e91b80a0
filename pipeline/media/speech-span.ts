/**
 * Where speech is on a scene's timeline, from each input's edge silence. Pure:
 * the inputs' silences were measured once (silencedetect, memoised), and a
 * built or trimmed track's is worked out from its recipe, never re-measured.
 */
import type { MediaFacts } from './facts.ts';
import type { TrackSpec, SceneTracks } from './timeline.ts';
import type { Order } from '../types.ts';

/** From the first sound to the end of the last, in ms from the track's start. */
export interface Span {
  startMs: number;
  endMs: number;
}

type Facts = ReadonlyMap<string, MediaFacts>;

/** Speech within one input, or none if it is all silence. Unmeasured inputs count as speech throughout. */
function fileSpan(location: string, durationMs: number, media: Facts): Span | undefined {
  const f = media.get(location);
  const edges = f?.kind === 'audio' ? f.edges : undefined;
  if (!edges) return { startMs: 0, endMs: durationMs };
  if (edges.leadingMs + edges.trailingMs >= durationMs) return undefined;
  return { startMs: edges.leadingMs, endMs: durationMs - edges.trailingMs };
}

/** Speech on one track as sent. */
export function trackSpan(track: TrackSpec, media: Facts): Span | undefined {
  switch (track.kind) {
    case 'silence':
      return undefined;
    case 'file':
      return fileSpan(track.location, track.durationMs, media);
    case 'built':
      return union(
        track.placements.map((p) => {
          const s = fileSpan(p.location, p.durationMs, media);
          return s && { startMs: p.startMs + s.startMs, endMs: p.startMs + s.endMs };
        }),
      );
    case 'trimmed': {
      const s = trackSpan(track.source, media);
      if (!s) return undefined;
      const startMs = Math.max(0, s.startMs - track.startMs);
      const endMs = Math.min(track.durationMs, s.endMs - track.startMs);
      return endMs > startMs ? { startMs, endMs } : undefined;
    }
  }
}

/** Where each track starts on the video's timeline: together (meanwhile) or one after the other. */
export function trackOffsets(order: Order, tracks: SceneTracks): { left: number; right: number } {
  if (order === 'left_right') return { left: 0, right: tracks.left.durationMs };
  if (order === 'right_left') return { left: tracks.right.durationMs, right: 0 };
  return { left: 0, right: 0 };
}

/** Silence before anyone speaks and after the last word, on the scene's video timeline of `videoMs`. */
export function sceneEdgeSilence(order: Order, tracks: SceneTracks, videoMs: number, media: Facts): { leadingMs: number; trailingMs: number } {
  const at = trackOffsets(order, tracks);
  const shift = (s: Span | undefined, by: number) => s && { startMs: s.startMs + by, endMs: s.endMs + by };
  const speech = union([shift(trackSpan(tracks.left, media), at.left), shift(trackSpan(tracks.right, media), at.right)]);
  if (!speech) return { leadingMs: videoMs, trailingMs: 0 };
  return { leadingMs: speech.startMs, trailingMs: Math.max(0, videoMs - speech.endMs) };
}

function union(spans: (Span | undefined)[]): Span | undefined {
  const present = spans.filter((s): s is Span => s !== undefined);
  if (present.length === 0) return undefined;
  return { startMs: Math.min(...present.map((s) => s.startMs)), endMs: Math.max(...present.map((s) => s.endMs)) };
}
