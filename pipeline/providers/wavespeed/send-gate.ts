import type { Dispatcher } from 'undici';
import { SendWindowMissedError } from '../../errors.ts';

/** The two clocks a send deadline is read on. */
export interface SendClocks {
  /** Wall clock (epoch ms): keeps counting across a suspended VM or laptop, which the monotonic clock does not. */
  now: () => number;
  /** Monotonic clock (ms): keeps counting across SIGSTOP and cannot be set back by NTP. */
  monotonic: () => number;
}

/** A submit's send deadline: its first byte leaves within `windowMs` of `start`, on both clocks, or none does. */
export interface SendDeadline {
  windowMs: number;
  /** Both clocks, read just before the submit was marked "submitting" (its claim's token checked). */
  start: { wall: number; mono: number };
}

/** Reads both clocks now: the start of a send deadline. */
export function startDeadline(clocks: SendClocks, windowMs: number): SendDeadline {
  return { windowMs, start: { wall: clocks.now(), mono: clocks.monotonic() } };
}

/** How far past its deadline a send would be now (0 or less: in time). The later clock counts. */
export function lateByMs(deadline: SendDeadline, clocks: SendClocks): number {
  const elapsed = Math.max(clocks.now() - deadline.start.wall, clocks.monotonic() - deadline.start.mono);
  return elapsed - deadline.windowMs;
}

type LegacyHandler = Dispatcher.DispatchHandler & { onConnect?: (abort: (err?: Error) => void, context?: unknown) => void };

/**
 * `inner`, except that a request is cut before its first byte is written
 * once its deadline has passed. undici calls the handler's `onConnect`
 * synchronously just before it writes the request on the socket (client-h1
 * `writeH1`), and a request aborted there writes nothing: one that waited in
 * the pool, a slow connect, or a process stopped (SIGSTOP) and continued
 * after its lease is proven never sent. Past this check the bytes may have
 * left: an error after it is ambiguous, as before.
 */
export function sendBefore(inner: Dispatcher, deadline: SendDeadline, clocks: SendClocks): Dispatcher {
  const gated = Object.create(inner) as Dispatcher;
  gated.dispatch = (options, handler) => {
    const wrapped = new Proxy(handler as LegacyHandler, {
      get(target, prop) {
        if (prop === 'onConnect') {
          return (abort: (err?: Error) => void, context?: unknown) => {
            const late = lateByMs(deadline, clocks);
            if (late > 0) {
              abort(new SendWindowMissedError(`not sent, ${Math.round(late)} ms past its send deadline (the process was paused, or the connection slow); no byte left, so no task was created`));
              return;
            }
            return target.onConnect?.(abort, context);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return inner.dispatch(options, wrapped);
  };
  return gated;
}
