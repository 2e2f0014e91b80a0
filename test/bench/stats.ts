/**
 * Repeated measurements, summarised: the median (robust to one slow run on a
 * shared machine) and the spread (min–max), so a reader sees the noise.
 */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: readonly number[]): Summary {
  if (runs.length === 0) throw new Error('summarize: no runs');
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: [...runs] };
}

/** "1.021 (1.015–1.030)": median, then min–max, at the given decimals. */
export function showSummary(s: Summary, digits: number, unit = ''): string {
  const f = (x: number) => `${x.toFixed(digits)}${unit}`;
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** A summary rounded for the JSON line. */
export function roundSummary(s: Summary, digits: number): Summary {
  const r = (x: number) => Number(x.toFixed(digits));
  return { median: r(s.median), min: r(s.min), max: r(s.max), runs: s.runs.map(r) };
}
