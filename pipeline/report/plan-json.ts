import type { Diagnostic } from '../errors.ts';
import type { Plan } from '../plan/index.ts';
import { explainScene } from './explain.ts';
import { explainWaste } from './waste.ts';
import { describeMergeHint, mergeHints } from '../plan/merge-hints.ts';
import { displayPath } from './table.ts';
import { sceneWasteJson, wasteTotalsJson } from './waste.ts';

/** The plan as one JSON document (`plan --json`): stable field names, no internals. */
export function planToJson(
  plan: Plan,
  warnings: Diagnostic[],
  outputOf: (episodeId: string, output?: string) => string,
  { explain = false, cwd }: { explain?: boolean; cwd: string },
) {
  return {
    type: 'plan',
    provider: plan.provider,
    budgets: plan.budgets.map((b) => ({ ...b, id: b.id === 'run' || b.kind === 'balance' ? b.id : displayPath(b.id, cwd) })),
    episodes: plan.episodes.map((e) => ({
      id: e.id,
      title: e.title ?? null,
      output: outputOf(e.id, e.output),
      admitted: e.admitted,
      skip_reason: e.skipReason ?? null,
      cost_usd: e.costUsd,
      needed_usd: e.neededUsd,
      needed_max_usd: e.neededMaxUsd,
      full_cost_usd: e.fullCostUsd,
      ...(explain ? { merge_suggestions: mergeHints(e.scenes).map(mergeJson) } : {}),
      scenes: e.scenes.map((s) => ({
        id: s.sceneId,
        title: s.title,
        order: s.order,
        resolution: s.resolution,
        video_seconds: s.videoSeconds,
        billed_seconds: s.billedSeconds,
        estimate_usd: s.estimateUsd,
        max_usd: s.maxUsd,
        cost_usd: s.costUsd,
        seed: s.seed,
        seed_source: s.seedSource,
        cache: s.cache.status,
        cache_reason: s.cache.reason ?? null,
        action: s.action,
        skip_reason: s.skipReason ?? null,
        key: s.key,
        // Lines not voiced yet: the video figures above are the bound the budget holds, not a measured length.
        estimated: s.pendingSpeech.length > 0,
        speech_usd: s.pendingSpeech.reduce((sum, p) => sum + p.usd, 0),
        ...sceneWasteJson(s.waste),
        ...(explain ? { explain: explainScene(s, e), explain_waste: explainWaste(s) } : {}),
      })),
    })),
    totals: {
      scenes: plan.totals.scenes,
      render: plan.totals.render,
      cached: plan.totals.cached,
      resume: plan.totals.resume,
      skipped: plan.totals.skipped,
      video_seconds: plan.totals.videoSeconds,
      billed_seconds: plan.totals.billedSeconds,
      cost_usd: plan.totals.costUsd,
      max_usd: plan.totals.maxUsd,
      full_cost_usd: plan.totals.fullCostUsd,
      speech_usd: plan.totals.speechUsd,
      estimated_scenes: plan.totals.estimated,
      waste: wasteTotalsJson(plan.totals.waste),
    },
    warnings: warnings.map((w) => ({ file: w.file, line: w.line ?? null, col: w.col ?? null, where: w.where ?? null, message: w.message })),
  };
}

function mergeJson(h: ReturnType<typeof mergeHints>[number]) {
  return {
    scenes: h.scenes,
    apart_usd: h.apartUsd,
    merged_usd: h.mergedUsd,
    saved_usd: h.savedUsd,
    merged_video_seconds: h.mergedVideoSeconds,
    merged_billed_seconds: h.mergedBilledSeconds,
    all_cached: h.allCached,
    lines_yaml: h.linesYaml,
    text: describeMergeHint(h),
  };
}
