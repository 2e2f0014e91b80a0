import { formatDiagnostic, type Diagnostic } from '../errors.ts';
import type { Plan } from '../plan/index.ts';
import { explainScene } from './explain.ts';
import { displayPath, table, usd } from './table.ts';
import { explainWaste, wasteTable, wasteTotalLine } from './waste.ts';
import { describeMergeHint, mergeHints } from '../plan/merge-hints.ts';

/** The human view of a plan: a table per episode, totals, budget verdict, warnings. */
export function planToText(
  plan: Plan,
  warnings: Diagnostic[],
  outputOf: (episodeId: string, output?: string) => string,
  { explain = false, cwd }: { explain?: boolean; cwd: string },
): string {
  const rel = (file: string) => displayPath(file, cwd);
  const lines: string[] = [];
  const p = plan.provider;
  lines.push(`provider: ${p.id} (${p.model}; prices ${p.priceTable}, read ${p.pricesReadAt})`, '');
  for (const ep of plan.episodes) {
    const status = ep.admitted ? '' : `  SKIPPED: ${ep.skipReason}`;
    lines.push(`${ep.id}${ep.title ? ` — ${ep.title}` : ''}  →  ${rel(outputOf(ep.id, ep.output))}${status}`);
    const rows = [['scene', 'order', 'res', 'video s', 'billed s', 'cost', 'seed', 'cache']];
    for (const s of ep.scenes) {
      const seed = s.seedSource === 'manifest' ? String(s.seed) : `${s.seed} (${s.seedSource})`;
      const cache = s.action === 'skip' ? `skip: ${s.skipReason}` : s.cache.status + (s.cache.reason ? ` (${s.cache.reason})` : '');
      // `≤`: a line not voiced yet; the length is the bound the budget holds (--explain says more).
      const est = s.pendingSpeech.length > 0 ? '≤' : '';
      rows.push([s.sceneId, s.order, s.resolution, `${est}${s.videoSeconds.toFixed(2)}`, `${est}${s.billedSeconds}`, `${est}${usd(s.estimateUsd)}`, seed, cache]);
    }
    lines.push(...table(rows, ['l', 'l', 'l', 'r', 'r', 'r', 'l', 'l']).map((l) => `  ${l}`));
    lines.push('  where the billed seconds go:', ...wasteTable(ep.scenes).map((l) => `    ${l}`));
    if (explain) {
      if (!ep.admitted) lines.push(`  why skipped: ${ep.skipReason}; episodes are admitted whole, in manifest order`);
      for (const sc of ep.scenes) lines.push(`  why ${sc.sceneId}: ${explainScene(sc, ep)}`, `  waste ${sc.sceneId}: ${explainWaste(sc)}`);
      for (const hint of mergeHints(ep.scenes)) lines.push(`  merge ${describeMergeHint(hint)}`, `    lines: ${hint.linesYaml}`);
    }
    const billed = ep.scenes.reduce((sum, s) => sum + s.billedSeconds, 0);
    lines.push(`  episode: ${ep.scenes.length} scenes, ${billed} s billed, ${usd(ep.fullCostUsd)} from scratch, ${usd(ep.costUsd)} to spend`, '');
  }
  const t = plan.totals;
  lines.push(
    `total: ${t.scenes} scenes — ${t.render} to render, ${t.cached} cached, ${t.resume} in flight, ${t.skipped} skipped; ` +
      `${t.billedSeconds} s billed; ${usd(t.costUsd)} to spend${t.maxUsd > t.costUsd ? ` (at most ${usd(t.maxUsd)} if clips run long)` : ''} (${usd(t.fullCostUsd)} from scratch)`,
  );
  lines.push(wasteTotalLine(t.waste, t.fullCostUsd));
  for (const b of plan.budgets) {
    const skipped = plan.episodes.filter((e) => !e.admitted).map((e) => e.id);
    const scope = b.kind === 'balance' ? 'WaveSpeed balance' : b.id === 'run' ? '--budget' : `budget of ${rel(b.id)}`;
    lines.push(`${scope}: ${usd(b.limitUsd)}, ${usd(b.reservedUsd)} reserved — ${skipped.length === 0 ? 'every episode fits' : `skipped: ${skipped.join(', ')}`}`);
  }
  if (!plan.budgets.some((b) => b.kind !== 'balance')) lines.push('budget: none (no cap)');
  if (t.estimated > 0) {
    lines.push(
      `speech: ${usd(t.speechUsd)} to voice lines written as text; ${t.estimated} scene${t.estimated === 1 ? "'s" : "s'"} video figures (≤) are upper bounds from the text's estimated length, held by the budget until the lines are voiced (--explain)`,
    );
  }
  if (warnings.length > 0) {
    lines.push('', `${warnings.length} warning${warnings.length === 1 ? '' : 's'}:`);
    for (const w of warnings) lines.push(`  warning: ${formatDiagnostic({ ...w, file: rel(w.file) })}`);
  }
  return `${lines.join('\n')}\n`;
}
