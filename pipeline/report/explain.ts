import type { PlannedEpisode, PlannedScene } from '../plan/index.ts';

/** Why a scene will (or will not) cost money this run, in one sentence. */
export function explainScene(s: PlannedScene, ep: PlannedEpisode): string {
  const cost = `$${s.estimateUsd.toFixed(2)}`;
  switch (s.action) {
    case 'cached':
      return 'hit: a clip with exactly these inputs and seed is cached; costs $0';
    case 'resume':
      return `in flight${s.cache.reason ? ` (${s.cache.reason})` : ''}: the next render resumes it; no new charge`;
    case 'skip':
      return `skipped: the episode does not fit the budget (${ep.skipReason ?? s.skipReason})`;
    default:
      return s.cache.reason
        ? `miss: ${s.cache.reason} since this scene was last rendered; re-rendering costs ${cost}`
        : `miss: never rendered with these inputs (new scene, or its earlier render was not kept); costs ${cost}`;
  }
}
