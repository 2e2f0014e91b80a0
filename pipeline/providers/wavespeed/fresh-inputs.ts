import type { RenderTask } from '../types.ts';
import { HttpStatusError } from '../../errors.ts';
import type { Uploader } from './uploader.ts';

/** A submit's (or a price quote's) inputs: media URLs, prompt, order, resolution, seed. */
export type Inputs = Record<string, unknown>;

/** The inputs that are URLs of media the provider fetches. */
const MEDIA = ['image', 'left_audio', 'right_audio'] as const;

/** Statuses by which the API refuses a request's content outright: no task is created. */
const REFUSED = new Set([400, 422]);

/** Runs `call` with a task's inputs (see {@link withFreshInputs}). */
export type WithInputs = <T>(task: RenderTask, signal: AbortSignal | undefined, call: (inputs: Inputs) => Promise<T>, onRefused?: () => void | Promise<void>) => Promise<T>;

/**
 * Calls with a task's inputs; when the API refuses them outright (400/422)
 * the task's remembered upload URLs are forgotten and the call is made once
 * more with fresh uploads. An upload URL remembered from an earlier run may
 * have expired at the provider before our memo's TTL says so (how long
 * uploads are kept is the provider's to change); without this, every scene
 * using that file would fail until the memo aged out. When nothing is
 * uploaded afresh (inputs given as URLs in the manifest), the refusal stands.
 * `onRefused` runs as soon as the refusal arrives, before anything is uploaded
 * again: it proved no task exists, so a stop during the new uploads is a clean one.
 */
export function withFreshInputs(build: (task: RenderTask, signal?: AbortSignal) => Promise<Inputs>, uploader: Pick<Uploader, 'forget'>): WithInputs {
  return async (task, signal, call, onRefused) => {
    const inputs = await build(task, signal);
    try {
      return await call(inputs);
    } catch (error) {
      if (!(error instanceof HttpStatusError) || !REFUSED.has(error.status)) throw error;
      await onRefused?.();
      const sent = MEDIA.map((field) => String(inputs[field]));
      await uploader.forget(task.image, [task.tracks.left, task.tracks.right], sent);
      const fresh = await build(task, signal);
      if (MEDIA.every((field) => fresh[field] === inputs[field])) throw error;
      return call(fresh);
    }
  };
}
