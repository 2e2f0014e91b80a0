/**
 * Money paid for nothing, as `plan` (text, --json, --explain) and the run
 * report show it: per scene and in total, the billed seconds split into
 * speech, leading/trailing silence, padding to the minimum and rounding up,
 * and what `trim: edges` saves (or would save).
 */
import type { BilledSplit, SplitUsd } from '../cost/waste.ts';
import type { PlannedScene } from '../plan/index.ts';
import type { SceneWaste, WasteTotals } from '../plan/waste.ts';
import { table } from './table.ts';

const s = (ms: number) => Math.round(ms) / 1000;
const cents = (n: number) => `$${n.toFixed(3)}`;

function splitJson(split: BilledSplit, usd: SplitUsd) {
  return {
    billed_seconds: s(split.billedMs),
    speech_seconds: s(split.speechMs),
    leading_silence_seconds: s(split.leadingSilenceMs),
    trailing_silence_seconds: s(split.trailingSilenceMs),
    padding_seconds: s(split.paddingMs),
    rounding_seconds: s(split.roundingMs),
    speech_usd: usd.speechUsd,
    silence_usd: usd.silenceUsd,
    padding_usd: usd.paddingUsd,
    rounding_usd: usd.roundingUsd,
    waste_usd: usd.wasteUsd,
  };
}

/** A scene's `waste` and `trim` objects (JSON field names are a contract: extend, never rename). */
export function sceneWasteJson(w: SceneWaste) {
  return {
    waste: { ...splitJson(w.split, w.usd), silence_measured: w.measured },
    trim: {
      edges: w.trim.on,
      margin_seconds: s(w.trim.marginMs),
      untrimmed_video_seconds: w.trim.untrimmedVideoSeconds,
      untrimmed_billed_seconds: w.trim.untrimmedBilledSeconds,
      untrimmed_usd: w.trim.untrimmedUsd,
      // On: what it saves. Off: what it would save with the default margin.
      saved_billed_seconds: w.trim.on ? w.trim.savedBilledSeconds : 0,
      saved_usd: w.trim.on ? w.trim.savedUsd : 0,
      possible_saving_usd: w.trim.on ? 0 : w.trim.savedUsd,
    },
  };
}

export function wasteTotalsJson(t: WasteTotals) {
  return { ...splitJson(t.split, t.usd), trim_saved_usd: t.trimSavedUsd, trim_possible_usd: t.trimPossibleUsd };
}

/** Per-episode table: where each scene's billed seconds go. */
export function wasteTable(scenes: readonly PlannedScene[]): string[] {
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)}`;
  const rows = [['scene', 'billed s', 'speech', 'silence', 'padding', 'rounding', 'paid for nothing', 'trim: edges']];
  for (const sc of scenes) {
    const { split, usd, trim } = sc.waste;
    const silence = sec(split.leadingSilenceMs + split.trailingSilenceMs) + (sc.waste.measured ? '' : '?');
    rows.push([sc.sceneId, String(split.billedMs / 1000), sec(split.speechMs), silence, sec(split.paddingMs), sec(split.roundingMs), cents(usd.wasteUsd), trimCell(sc.waste)]);
  }
  return table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
}

function trimCell(w: SceneWaste): string {
  const t = w.trim;
  const secs = `${t.untrimmedBilledSeconds} → ${t.untrimmedBilledSeconds - t.savedBilledSeconds} s`;
  if (t.on) return t.savedUsd > 0 ? `on, saves ${cents(t.savedUsd)} (${secs})` : 'on, saves nothing';
  return t.savedUsd > 0 ? `off (would save ${cents(t.savedUsd)}, ${secs})` : 'off';
}

/** The plan's total line: how much of the from-scratch cost is paid for nobody speaking. */
export function wasteTotalLine(t: WasteTotals, fullCostUsd: number): string {
  const share = fullCostUsd > 0 ? ` (${Math.round((t.usd.wasteUsd / fullCostUsd) * 100)}%)` : '';
  const trim = [
    t.trimSavedUsd > 0 ? `trim: edges saves ${cents(t.trimSavedUsd)}` : '',
    t.trimPossibleUsd > 0 ? `trim: edges would save ${cents(t.trimPossibleUsd)} more where it is off` : '',
  ].filter(Boolean);
  return (
    `paid for nothing: ${cents(t.usd.wasteUsd)} of ${cents(fullCostUsd)} from scratch${share} — ` +
    `silence ${s(t.split.leadingSilenceMs + t.split.trailingSilenceMs)} s ${cents(t.usd.silenceUsd)}, ` +
    `padding to the minimum ${s(t.split.paddingMs)} s ${cents(t.usd.paddingUsd)}, ` +
    `rounding up ${s(t.split.roundingMs)} s ${cents(t.usd.roundingUsd)}; speech ${s(t.split.speechMs)} s ${cents(t.usd.speechUsd)}` +
    (trim.length > 0 ? `; ${trim.join('; ')}` : '')
  );
}

/** `--explain`: one sentence on where a scene's billed seconds go. */
export function explainWaste(sc: PlannedScene): string {
  const { split, usd, trim, measured } = sc.waste;
  const parts = [
    split.leadingSilenceMs > 0 ? `${s(split.leadingSilenceMs)} s of silence before the first word` : '',
    split.trailingSilenceMs > 0 ? `${s(split.trailingSilenceMs)} s ${split.leadingSilenceMs > 0 ? 'after the last' : 'of silence after the last word'}` : '',
    split.paddingMs > 0 ? `${s(split.paddingMs)} s of padding up to the ${s(split.billedMs)} s minimum` : '',
    split.roundingMs > 0 ? `${s(split.roundingMs)} s of rounding up to ${s(split.billedMs)} s` : '',
  ].filter(Boolean);
  const head = parts.length === 0 ? `all ${s(split.billedMs)} billed s carry speech` : `${cents(usd.wasteUsd)} of ${s(split.billedMs)} billed s pays for nobody speaking: ${parts.join(', ')}`;
  const unmeasured = measured ? '' : ' (silence not measured for every input: counted as speech)';
  const advice = trim.on
    ? trim.savedUsd > 0 ? `; trim: edges (margin ${s(trim.marginMs)} s) saves ${cents(trim.savedUsd)}` : ''
    : trim.savedUsd > 0 ? `; \`trim: edges\` would save ${cents(trim.savedUsd)} (${trim.untrimmedBilledSeconds} → ${trim.untrimmedBilledSeconds - trim.savedBilledSeconds} billed s)` : '';
  return `${head}${unmeasured}${advice}`;
}
