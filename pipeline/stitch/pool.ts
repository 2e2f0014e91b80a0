/**
 * The local worker pool for ffmpeg work (conforms, episode encodes): sized to
 * the machine's cores, apart from the provider's concurrency, so a conform
 * never holds a submit or a poll back. Stitches go ahead of waiting conforms:
 * an episode ready to write is the user's result, a conform only a step to one.
 */
import { availableParallelism } from 'node:os';
import { abortError } from '../errors.ts';

export type Priority = 'stitch' | 'conform';

export interface LocalPool {
  /** Runs `job` when a worker is free; rejects with an abort error, unstarted, once `signal` is aborted. */
  run<T>(priority: Priority, job: () => Promise<T>): Promise<T>;
  readonly size: number;
}

export function createLocalPool(options: { size?: number; signal?: AbortSignal } = {}): LocalPool {
  const size = options.size ?? availableParallelism();
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`Expected \`size\` to be a whole number from 1 up, got \`${size}\``);
  const waiting: Record<Priority, (() => void)[]> = { stitch: [], conform: [] };
  let active = 0;
  const next = () => {
    if (active >= size) return;
    const start = waiting.stitch.shift() ?? waiting.conform.shift();
    if (start) start();
  };
  return {
    size,
    run<T>(priority: Priority, job: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        waiting[priority].push(() => {
          // Ctrl-C: what has not started never starts; what runs is stopped by its own signal.
          if (options.signal?.aborted) {
            reject(abortError(options.signal));
            next();
            return;
          }
          active++;
          job()
            .then(resolve, reject)
            .finally(() => {
              active--;
              next();
            });
        });
        next();
      });
    },
  };
}
