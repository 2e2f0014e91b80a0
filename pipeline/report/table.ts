import path from 'node:path';

/** Left/right-aligned text columns; no colour, so it pipes cleanly. */
export function table(rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = align.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

export const usd = (n: number): string => `$${n.toFixed(2)}`;

/** A path as the user would type it from `cwd`: relative inside it, absolute outside. */
export function displayPath(file: string, cwd: string): string {
  const r = path.relative(cwd, file);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : file;
}
