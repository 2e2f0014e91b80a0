/**
 * Keys another live run holds, watched together. Each waiting key used to be
 * claimed again every poll: with N workers splitting one run, each worker
 * waits on most keys of the run, and spent one claim transaction per waited
 * key per second (and a slot of its concurrency cap for each). Now one read
 * of all the waited rows per poll, and a key's waiter is woken only when a
 * claim would not find it busy: complete, released, held by this store, or
 * its holder gone (the same rule the stores' claim applies). The claim after
 * the wake-up still decides; this only saves asking when the answer is known.
 */
import type { RenderRow, RenderStore } from '../cache/interfaces.ts';
import { ownerAlive } from '../cache/owner.ts';
import type { Sleep } from '../sleep.ts';

export interface BusyWatch {
  /** Resolves once `key` is worth claiming again; rejects when the watch's signal fires. */
  until(key: string): Promise<void>;
}

export interface BusyWatchOptions {
  renders: Pick<RenderStore, 'getMany' | 'owner'>;
  sleep: Sleep;
  pollMs: number;
  now: () => number;
  signal: AbortSignal;
  /** A waiter is woken after this many polls whatever its row says (a state this rule does not foresee never stalls a key). @default 10 */
  maxPolls?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  polls: number;
}

export function createBusyWatch(options: BusyWatchOptions): BusyWatch {
  const waiting = new Map<string, Waiter[]>();
  const maxPolls = options.maxPolls ?? 10;
  let looping = false;

  /** Whether a claim of this row would not answer "busy" (stores' claim: renders.ts). */
  const claimable = (row: RenderRow | undefined): boolean =>
    row === undefined || row.status === 'complete' || !row.owner || row.owner === options.renders.owner || !ownerAlive(row.owner, row.lease_until ?? 0, options.now());

  const wake = (key: string) => {
    for (const w of waiting.get(key) ?? []) w.resolve();
    waiting.delete(key);
  };

  const loop = async () => {
    looping = true;
    try {
      while (waiting.size > 0) {
        try {
          await options.sleep(options.pollMs, options.signal);
        } catch (error) {
          for (const ws of waiting.values()) for (const w of ws) w.reject(error);
          waiting.clear();
          return;
        }
        const keys = [...waiting.keys()];
        let rows: Map<string, RenderRow>;
        try {
          rows = await options.renders.getMany(keys);
        } catch {
          // The store's failure is the claim's to report, the way it always was: everyone asks again.
          for (const key of keys) wake(key);
          continue;
        }
        for (const key of keys) {
          const ws = waiting.get(key);
          if (!ws) continue;
          for (const w of ws) w.polls++;
          if (claimable(rows.get(key)) || ws.some((w) => w.polls >= maxPolls)) wake(key);
        }
      }
    } finally {
      looping = false;
    }
  };

  return {
    until(key) {
      if (options.signal.aborted) return Promise.reject(options.signal.reason);
      return new Promise<void>((resolve, reject) => {
        const list = waiting.get(key) ?? [];
        list.push({ resolve, reject, polls: 0 });
        waiting.set(key, list);
        if (!looping) void loop();
      });
    },
  };
}
