/**
 * Output ready to paste into BENCHMARKS.md (`npm run bench -- --md ...`):
 * a line saying when, how and under what load it was measured, then each
 * bench's table.
 */
import { cpus, loadavg } from 'node:os';

export type BenchResult = Record<string, unknown>;

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** For benches without their own table: one row per field. */
export function fieldsTable(result: BenchResult): string {
  return table(['field', 'value'], Object.entries(result).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
}

/** "0.52 / 1.97": the load average over 1 and 5 minutes; a reader judges the numbers by it. */
export function machineLoad(): string {
  const [one, five] = loadavg();
  return `${one.toFixed(2)} / ${five.toFixed(2)}`;
}

export function provenance(command: string, before: string, after: string, quickRun: boolean): string {
  const date = new Date().toISOString().slice(0, 10);
  const lines = [`Measured ${date} with \`${command}\`; Node ${process.versions.node}, ${cpus().length} cores, load average (1 min / 5 min) ${before} before, ${after} after.`];
  if (quickRun) lines.push('**Quick smoke run (--quick): small sizes, not figures to quote.**');
  return lines.join('\n');
}
