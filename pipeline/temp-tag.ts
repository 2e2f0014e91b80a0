let seq = 0;

/**
 * `<n>.<pid>` for temp names: unique within this process (two runs of the
 * library in one process may write the same episode or clip at once) and
 * ending in the writer's pid, which `cache gc` reads to tell a live writer's
 * temp file from a leftover.
 */
export function tempTag(): string {
  return `${++seq}.${process.pid}`;
}
