import { etaSeconds, type ProgressState } from './progress-state.ts';

export interface ViewOptions {
  width: number;
  color: boolean;
}

const paint = (on: boolean, code: number, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** The live block: a header with money and ETA, then a bar per episode. Pure. */
export function progressLines(s: ProgressState, options: ViewOptions): string[] {
  const total = s.episodes.reduce((n, e) => n + e.total, 0);
  const done = s.episodes.reduce((n, e) => n + e.done, 0);
  const money =
    `$${s.spentUsd.toFixed(2)} spent` +
    (s.reservedUsd > 0 ? ` + $${s.reservedUsd.toFixed(2)} reserved` : '') +
    (s.budgetUsd !== null ? ` of $${s.budgetUsd.toFixed(2)}` : '');
  const eta = etaSeconds(s);
  const header = `duologue · ${s.provider} · ${done}/${total} scenes · ${money} · ETA ${eta === undefined ? '…' : duration(eta)}`;
  const idWidth = Math.min(20, Math.max(...s.episodes.map((e) => e.id.length), 4));
  const barWidth = Math.max(10, Math.min(30, options.width - idWidth - 60));
  const lines = [clip(header, options.width)];
  for (const e of s.episodes) {
    const filled = e.total === 0 ? barWidth : Math.round((e.done / e.total) * barWidth);
    const bar = paint(options.color, 32, '█'.repeat(filled)) + '░'.repeat(barWidth - filled);
    const failed = e.failed > 0 ? paint(options.color, 31, `failed ${e.failed}`) : 'failed 0';
    const limited = e.rateLimited > 0 ? ` · waiting for the rate limit ${e.rateLimited}` : '';
    const file = e.file === undefined ? '' : ` · ${e.file === 'not written' ? paint(options.color, 31, e.file) : paint(options.color, 32, e.file)}${e.where ? ` → ${e.where}` : ''}`;
    const counts = `cached ${e.cached} · in flight ${e.inFlight} · queued ${e.queued}${limited} · ${failed} · skipped ${e.skipped}${file}`;
    lines.push(`${e.id.padEnd(idWidth).slice(0, idWidth)} ${bar} ${`${e.done}/${e.total}`.padStart(7)}  ${counts}`);
  }
  return lines;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function clip(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
