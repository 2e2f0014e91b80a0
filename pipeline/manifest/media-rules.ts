import { LIMITS } from '../defaults.ts';
import type { Diagnostic } from '../errors.ts';
import { billedSeconds, videoMillis } from '../cost/estimate.ts';
import type { PriceTable } from '../cost/price-table.ts';
import type { MediaFacts } from '../media/facts.ts';
import { sceneTracks } from '../media/timeline.ts';
import type { Series } from '../types.ts';

/**
 * Rules that need the media's durations: the 600 s hard limit (error), and
 * warnings for clips billed above their length or long enough to drift.
 * Pure: runs after inspectMedia, before planning.
 */
export function checkSceneLengths(series: Series, media: ReadonlyMap<string, MediaFacts>, prices: PriceTable): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const ep of series.episodes) {
    for (const scene of ep.scenes) {
      let tracks;
      try {
        tracks = sceneTracks(scene, media);
      } catch {
        continue; // an input was unusable: already reported by inspectMedia
      }
      const ms = videoMillis(scene.order, tracks.left.durationMs, tracks.right.durationMs);
      const at = { file: scene.file, ...scene.pos, where: `${scene.episodeId}/${scene.sceneId}` };
      const seconds = (ms / 1000).toFixed(2);
      if (ms > LIMITS.maxVideoSeconds * 1000) {
        out.push({ severity: 'error', code: 'E_INPUT', ...at, message: `scene is ${seconds} s long; the limit is ${LIMITS.maxVideoSeconds} s per scene (split it)` });
        continue;
      }
      const billed = billedSeconds(ms, prices);
      if (ms < prices.minimumBilledSeconds * 1000) {
        out.push({
          severity: 'warning',
          code: 'E_INPUT',
          ...at,
          message: `scene is ${seconds} s but at least ${prices.minimumBilledSeconds} s is billed: you pay for ${(billed - ms / 1000).toFixed(2)} s of nothing`,
        });
      }
      if (ms > LIMITS.driftWarnSeconds * 1000) {
        out.push({
          severity: 'warning',
          code: 'E_INPUT',
          ...at,
          message: `scene is ${seconds} s; InfiniteTalk's colour drift grows past ${LIMITS.driftWarnSeconds} s (consider splitting it)`,
        });
      }
    }
  }
  return out;
}
