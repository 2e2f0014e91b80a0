/**
 * Knobs every bench shares. `npm run bench -- --quick` (BENCH_QUICK=1) runs
 * each at a small size to check it works end to end: its numbers mean
 * nothing and are marked so. BENCH_REPEATS sets how many times the repeated
 * benches repeat (default 3: a median needs at least three).
 */
export function quick(): boolean {
  return process.env.BENCH_QUICK === '1';
}

/** `full` normally, `small` in a quick smoke run. */
export function sized<T>(full: T, small: T): T {
  return quick() ? small : full;
}

export function repeats(): number {
  const n = Number(process.env.BENCH_REPEATS ?? 3);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Expected \`BENCH_REPEATS\` to be an integer from 1 up, got \`${process.env.BENCH_REPEATS}\``);
  return quick() ? Math.min(n, 2) : n;
}
