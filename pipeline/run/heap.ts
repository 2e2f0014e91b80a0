/**
 * The process's memory policy for long runs. A render's garbage is mostly
 * old: each scene's async state lives through seconds of pacing, submitting
 * and looking, so it outlives the young collections and only a full one
 * frees it. V8 sets the next full collection at up to 4× what the last one
 * found live (by how fast the program allocated then), so a run with ~60 MB
 * live peaked anywhere from 250 to 380 MB of RSS, by when its first full
 * collection came (planning's fast allocation set the largest allowance).
 * Growing by at most 2× bounds the heap at ~2× the live data, whatever the
 * timing, for a few more full collections (each tens of ms, mostly on
 * V8's background thread). Process-wide: the CLI's entry sets it.
 */
import { setFlagsFromString } from 'node:v8';

/** Old generation grows to at most (1 + percent/100) × the live data before a full collection. */
export const HEAP_GROWING_PERCENT = 100;

export function boundHeapGrowth(percent = HEAP_GROWING_PERCENT): void {
  // Read by V8 at every full collection, so setting it once the process runs takes effect from the next one.
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
