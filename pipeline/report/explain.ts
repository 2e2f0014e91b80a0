import type { PlannedEpisode, PlannedScene } from '../plan/index.ts';

/** Why a scene will (or will not) cost money this run, in one sentence (and, for text lines, which figures are estimates). */
export function explainScene(s: PlannedScene, ep: PlannedEpisode): string {
  const why = explainCost(s, ep);
  if (s.pendingSpeech.length === 0) return why;
  const n = s.pendingSpeech.length;
  const speech = s.pendingSpeech.reduce((sum, p) => sum + p.usd, 0);
  const rates = [...new Set(s.pendingSpeech.map((p) => `${p.charsPerSecond.toFixed(1)} chars/s${p.learned ? ' (learned from this voice)' : ' (default)'}`))].join(', ');
  const expected = s.pendingSpeech.map((p) => (p.ms / 1000).toFixed(1)).join(' + ');
  return (
    `${why}. ESTIMATE: ${n} line${n === 1 ? ' is' : 's are'} not voiced yet (speech $${speech.toFixed(4)}, exact: priced per character); ` +
    `their length is estimated at ${expected} s from the text at ${rates}, and the video figures use the safe upper bound ` +
    `(${s.pendingSpeech.map((p) => (p.maxMs / 1000).toFixed(1)).join(' + ')} s), which the budget reserves until the lines are voiced and the exact cost is known`
  );
}

function explainCost(s: PlannedScene, ep: PlannedEpisode): string {
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
