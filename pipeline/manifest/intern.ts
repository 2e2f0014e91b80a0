/**
 * One string per distinct value across a series' scenes. Normalization
 * shares a media path between the scenes that use it, but a series copied
 * between threads arrives with a copy per use (a structured clone writes a
 * string at every occurrence): ~10 strings a scene kept for the whole run.
 */
import type { MediaRef, Series } from '../types.ts';

export function internSeries(series: Series): Series {
  const seen = new Map<string, string>();
  const one = (s: string): string => {
    const known = seen.get(s);
    if (known !== undefined) return known;
    seen.set(s, s);
    return s;
  };
  const ref = (m: MediaRef | undefined): void => {
    if (!m) return;
    m.given = one(m.given);
    m.location = one(m.location);
    m.file = one(m.file);
  };
  for (const info of series.manifests) info.file = one(info.file);
  for (const ep of series.episodes) {
    ep.id = one(ep.id);
    ep.file = one(ep.file);
    for (const scene of ep.scenes) {
      scene.episodeId = one(scene.episodeId);
      scene.file = one(scene.file);
      scene.prompt = one(scene.prompt);
      ref(scene.image);
      if (scene.audio.form === 'pair') {
        ref(scene.audio.left);
        ref(scene.audio.right);
      } else {
        for (const line of scene.audio.lines) ref(line.media);
      }
    }
  }
  return series;
}
