/**
 * The process's memory policy for long runs. A render's garbage is mostly
 * old: each scene's async state lives through seconds of pacing, submitting
 * and looking, so it outlives the young collections and only a full one
 * frees it. V8 sets the next full collection at up to 4× what the last one
 * found live (more the faster the program allocated then), so a run with
 * ~60 MB live peaked anywhere from 250 to 380 MB of RSS, by when its first
 * full collection came (planning's fast allocation set the largest
 * allowance). Growing by at most 1.5× bounds the heap at ~1.5× the live
 * data whatever the timing, for about twice as many full collections (in
 * the Silver bench 17 instead of 8, ~0.1 ms of CPU per scene, mostly on
 * V8's background threads). Process-wide: the CLI's entry sets it.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation grows to at most (1 + percent/100) × the data the last full collection found live. */
export const HEAP_GROWING_PERCENT = 50;

export function boundHeapGrowth(percent = HEAP_GROWING_PERCENT): void {
  // Read by V8 whenever it sets the next limit, so setting it once the process runs takes effect from the next collection.
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
