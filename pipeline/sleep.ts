import { setTimeout as delay } from 'node:timers/promises';
import { abortError } from './errors.ts';

/** Waits `ms`, or rejects with E_ABORTED as soon as the signal fires. A collaborator: tests pass a faster one. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = async (ms, signal) => {
  try {
    await delay(ms, undefined, { signal });
  } catch (cause) {
    throw abortError(signal, cause);
  }
};
