import { randomBytes } from 'node:crypto';

let seq = 0;
/** Two containers sharing one cache volume may both be pid 1: the pid alone does not tell their temp files apart. */
const NONCE = randomBytes(4).toString('hex');

/**
 * `<n>.<nonce>.<pid>` for temp names: unique within this process (two runs
 * of the library in one process may write the same episode or clip at once)
 * and across machines sharing a cache (a random nonce per process), ending
 * in the writer's pid, which `cache gc` reads to tell a live writer's
 * temp file from a leftover.
 */
export function tempTag(): string {
  return `${++seq}.${NONCE}.${process.pid}`;
}
