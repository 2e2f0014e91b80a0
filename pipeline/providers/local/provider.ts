import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DuologueError, abortError } from '../../errors.ts';
import { runFfmpeg, type FfmpegPaths } from '../../media/ffmpeg.ts';
import { materializeTrack } from '../../media/tracks.ts';
import { verifyClip } from '../../media/verify-clip.ts';
import { PROVIDERS } from '../info.ts';
import type { CallOptions, Delivered, PollResult, Provider, RenderTask } from '../types.ts';
import { localRenderArgs } from './args.ts';
import { tempTag } from '../../temp-tag.ts';

export interface LocalProviderOptions {
  /** Scratch space: built tracks and finished renders waiting for download. */
  workDir: string;
  ffmpeg: FfmpegPaths;
}

/**
 * Renders a preview on this machine with ffmpeg: free, offline, and laid out
 * like the API's output so timing and order can be checked before paying.
 * A "prediction" is an ffmpeg job of this process; one from a process that
 * died reads as failed (it costs nothing to redo).
 */
export function createLocalProvider(options: LocalProviderOptions): Provider {
  const jobs = new Map<string, Promise<string>>();
  const settled = new Map<string, PollResult>();
  const outputOf = (id: string) => path.join(options.workDir, 'local', `${id}.mp4`);

  async function render(id: string, task: RenderTask, signal?: AbortSignal): Promise<string> {
    const [left, right] = await Promise.all([
      materializeTrack(task.tracks.left, options.workDir, options.ffmpeg, signal),
      materializeTrack(task.tracks.right, options.workDir, options.ffmpeg, signal),
    ]);
    const out = outputOf(id);
    await mkdir(path.dirname(out), { recursive: true });
    // The pid in the name tells `cache gc` whether its writer is still alive.
    const tmp = `${out}.${tempTag()}.tmp`;
    try {
      await runFfmpeg(
        localRenderArgs({
          image: task.image.localPath,
          imageWidth: task.image.width,
          imageHeight: task.image.height,
          left,
          right,
          leftMs: task.tracks.left.durationMs,
          rightMs: task.tracks.right.durationMs,
          order: task.order,
          resolution: task.resolution,
          out: tmp,
        }),
        options.ffmpeg,
        { signal, label: `render ${task.episodeId}/${task.sceneId} locally`, mediaSeconds: task.videoSeconds },
      );
      await rename(tmp, out);
    } catch (error) {
      await rm(tmp, { force: true }); // aborted or failed: a half-written preview is worth nothing
      throw error;
    }
    return out;
  }

  const provider: Provider = {
    info: PROVIDERS.local,
    async submit(task, { signal, onSubmitting } = {}) {
      if (signal?.aborted) throw abortError(signal);
      await onSubmitting?.({ model: PROVIDERS.local.model, at: Date.now(), body: { key: task.key } });
      const id = `local-${randomUUID()}`;
      const job = render(id, task, signal);
      jobs.set(id, job);
      job.then(
        (out) => settled.set(id, { status: 'completed', outputUrl: out }),
        (error: Error) => settled.set(id, { status: 'failed', error: error.message }),
      );
      return { predictionId: id };
    },
    async poll(id, task) {
      const done = settled.get(id);
      if (done) return done;
      if (jobs.has(id)) return { status: 'processing' };
      // Not ours: a finished file from an earlier process is still good if it checks out. One that
      // does not (its process died on a full disk mid-write, say) is thrown away: redoing it is free.
      const out = outputOf(id);
      try {
        if ((await stat(out)).size > 0) {
          await verifyClip(out, task.videoSeconds, `${task.episodeId}/${task.sceneId}`);
          return { status: 'completed', outputUrl: out };
        }
      } catch {
        await rm(out, { force: true });
      }
      return { status: 'failed', error: 'local render was interrupted (its process ended); it will be redone' };
    },
    async wait(id, task, { signal } = {}) {
      const job = jobs.get(id);
      if (!job) return provider.poll(id, task);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal!));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        job.then(
          () => resolve(),
          () => resolve(),
        ).finally(() => signal?.removeEventListener('abort', onAbort));
      });
      return provider.poll(id, task);
    },
    async download(result: PollResult, task: RenderTask, dest: string, { signal }: CallOptions = {}): Promise<Delivered> {
      if (result.status !== 'completed' || !result.outputUrl) {
        throw new DuologueError('E_INTERNAL', `download called for ${task.episodeId}/${task.sceneId} before it completed`);
      }
      const label = `${task.episodeId}/${task.sceneId}`;
      const durationSeconds = await verifyClip(result.outputUrl, task.videoSeconds, label);
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(result.outputUrl, dest);
      const bytes = (await stat(dest)).size;
      return { path: dest, bytes, durationSeconds };
    },
    async close() {
      await Promise.allSettled(jobs.values());
    },
  };
  return provider;
}
