/**
 * `plan --explain` advice: adjacent scenes that are each billed the minimum
 * (so each pays padding) and share image, resolution and prompt can be one
 * `lines` scene: one job, one minimum, one rounding. Pure, from the planned
 * scenes alone (their split says what the minimum and the price per second are).
 */
import { roundUsd } from '../cost/estimate.ts';
import { LIMITS } from '../defaults.ts';
import type { PlannedScene } from './index.ts';

export interface MergeHint {
  scenes: string[];
  /** What the scenes cost apart (from scratch) and as one lines scene. */
  apartUsd: number;
  mergedUsd: number;
  savedUsd: number;
  mergedVideoSeconds: number;
  mergedBilledSeconds: number;
  /** Every scene is cached now: merging means paying for a new render. */
  allCached: boolean;
  /** The merged scene's `lines:` as flow YAML, paths as written in the manifest. */
  linesYaml: string;
}

/** Scenes whose audio can be laid out as lines: anything but two voices at once. */
function asLines(s: PlannedScene): boolean {
  const a = s.spec.audio;
  return a.form === 'lines' || !a.left || !a.right || s.order !== 'meanwhile';
}

function underMinimum(s: PlannedScene): boolean {
  return s.waste.split.paddingMs > 0;
}

function sameLook(a: PlannedScene, b: PlannedScene): boolean {
  return a.image.sha256 === b.image.sha256 && a.resolution === b.resolution && a.prompt === b.prompt;
}

/**
 * Runs of adjacent mergeable scenes, each run as long as it stays within the
 * colour-drift length (LIMITS.driftWarnSeconds), kept when merging saves money.
 * The merged length is the scenes' untrimmed lengths laid end to end (a lines
 * scene with no pauses): trimming would only cut the outer edges of the whole.
 */
export function mergeHints(scenes: readonly PlannedScene[]): MergeHint[] {
  const hints: MergeHint[] = [];
  let run: PlannedScene[] = [];
  const flush = () => {
    if (run.length >= 2) {
      const hint = priced(run);
      if (hint.savedUsd > 0) hints.push(hint);
    }
    run = [];
  };
  const lengthMs = (xs: PlannedScene[]) => xs.reduce((n, s) => n + Math.round(s.waste.trim.untrimmedVideoSeconds * 1000), 0);
  for (const s of scenes) {
    if (!underMinimum(s) || !asLines(s)) {
      flush();
      continue;
    }
    if (run.length > 0 && (!sameLook(run[0], s) || lengthMs([...run, s]) > LIMITS.driftWarnSeconds * 1000)) flush();
    run.push(s);
  }
  flush();
  return hints;
}

function priced(run: PlannedScene[]): MergeHint {
  const first = run[0];
  // Under the minimum, a scene is billed exactly the minimum: that, and its price, give the rule.
  const minimumMs = first.waste.split.billedMs;
  const perSecond = first.estimateUsd / first.billedSeconds;
  const videoMs = run.reduce((n, s) => n + Math.round(s.waste.trim.untrimmedVideoSeconds * 1000), 0);
  const billed = Math.max(minimumMs / 1000, Math.ceil(videoMs / 1000));
  const apartUsd = roundUsd(run.reduce((n, s) => n + s.estimateUsd, 0));
  const mergedUsd = roundUsd(billed * perSecond);
  return {
    scenes: run.map((s) => s.sceneId),
    apartUsd,
    mergedUsd,
    savedUsd: roundUsd(apartUsd - mergedUsd),
    mergedVideoSeconds: videoMs / 1000,
    mergedBilledSeconds: billed,
    allCached: run.every((s) => s.action === 'cached'),
    linesYaml: `[${run.flatMap(lines).join(', ')}]`,
  };
}

/** A scene's audio as lines, in the order it is heard. */
function lines(s: PlannedScene): string[] {
  const a = s.spec.audio;
  const line = (side: string, given: string, pauseMs = 0) => `{ ${side}: ${JSON.stringify(given)}${pauseMs > 0 ? `, pause: ${pauseMs / 1000}` : ''} }`;
  if (a.form === 'lines') return a.lines.map((l) => line(l.side, l.media.given, l.pauseMs));
  const sides = (s.order === 'right_left' ? ['right', 'left'] : ['left', 'right']) as ('left' | 'right')[];
  return sides.flatMap((side) => (a[side] ? [line(side, a[side].given)] : []));
}

/** "cold-open + reply: $0.30 → $0.21" and how. */
export function describeMergeHint(h: MergeHint): string {
  const note = h.allCached ? '; all cached now, so merging pays for one new render' : '';
  return `${h.scenes.join(' + ')}: $${h.apartUsd.toFixed(2)} → $${h.mergedUsd.toFixed(2)} as one \`lines\` scene (${h.mergedVideoSeconds.toFixed(2)} s, billed ${h.mergedBilledSeconds} s; saves $${h.savedUsd.toFixed(2)}${note})`;
}
