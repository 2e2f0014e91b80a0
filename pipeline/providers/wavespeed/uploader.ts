import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { FormData } from 'undici';
import { DuologueError, isAbort } from '../../errors.ts';
import type { UploadMemo } from '../../cache/interfaces.ts';
import type { FfmpegPaths } from '../../media/ffmpeg.ts';
import { sha256File } from '../../media/hash.ts';
import { materializeTrack } from '../../media/tracks.ts';
import { trackIdentity, type TrackSpec } from '../../media/timeline.ts';
import type { ApiContext } from './context.ts';
import { readEnvelope, send } from './http.ts';

export interface Uploader {
  /** The provider URL of a local file's bytes: remembered by sha256, uploaded once. */
  upload(file: string, sha256: string, label: string, signal?: AbortSignal): Promise<string>;
  /** The URL to send for one side's audio: a passed-through URL, an input file, or a built track. */
  trackUrl(track: TrackSpec, label: string, signal?: AbortSignal): Promise<string>;
  /**
   * Forgets the URLs of these inputs (the provider could not fetch one): the next submit uploads them again.
   * With `sent`, only where the URL remembered is one of those (another scene may have uploaded a fresh one meanwhile).
   */
  forget(image: { sha256: string }, tracks: TrackSpec[], sent?: readonly string[]): Promise<void>;
}

/**
 * Uploads with `POST /api/v3/media/upload/binary` (multipart `file`, streamed
 * from disk). Each distinct file is uploaded once and its URL reused for the
 * policy's TTL: remembered in the cache database across runs, and in memory
 * within one (one lookup per distinct file, not per scene).
 */
export function createUploader(ctx: ApiContext, options: { uploads: UploadMemo; workDir: string; ffmpeg: FfmpegPaths }): Uploader {
  const { deps, policy, apiUrl, headersFor } = ctx;
  const inFlightUploads = new Map<string, Promise<string>>();
  // Per-process memory over the cache database: one lookup per distinct file, not per scene.
  const knownUrls = new Map<string, { url: string; at: number }>();
  const trackUrls = new Map<string, string>();
  /** Tracks being built, by recipe. */
  const trackBuilds = new Map<string, Promise<{ file: string; sha: string }>>();

  async function upload(file: string, sha256: string, label: string, signal?: AbortSignal): Promise<string> {
    const known = knownUrls.get(sha256);
    if (known && deps.now() - known.at < policy.uploadTtlMs) return known.url;
    const remembered = await options.uploads.get(sha256, policy.uploadTtlMs);
    if (remembered) {
      knownUrls.set(sha256, { url: remembered, at: deps.now() });
      return remembered;
    }
    const pending = inFlightUploads.get(sha256);
    if (pending) return pending;
    const job = (async () => {
      const url = apiUrl('/api/v3/media/upload/binary');
      const res = await send(
        {
          method: 'POST',
          url,
          label: `[POST] "${url}" (${label}: ${path.basename(file)})`,
          headers: headersFor(url),
          body: async () => {
            // A fresh blob per attempt; streamed from disk by undici, never read whole.
            const form = new FormData();
            form.append('file', await openAsBlob(file), path.basename(file));
            return form;
          },
          mode: 'idempotent',
          signal,
        },
        deps,
      );
      const data = await readEnvelope<{ download_url?: unknown }>(res, `upload of ${path.basename(file)} (${label})`);
      if (typeof data.download_url !== 'string' || !/^https?:\/\//.test(data.download_url)) {
        throw new DuologueError('E_API', `upload of ${path.basename(file)} (${label}): the response has no download_url`);
      }
      await options.uploads.put(sha256, data.download_url);
      knownUrls.set(sha256, { url: data.download_url, at: deps.now() });
      return data.download_url;
    })();
    inFlightUploads.set(sha256, job);
    try {
      return await job;
    } finally {
      inFlightUploads.delete(sha256);
    }
  }

  async function trackUrl(track: TrackSpec, label: string, signal?: AbortSignal): Promise<string> {
    if (track.kind === 'file' && /^https?:\/\//i.test(track.location)) return track.location;
    if (track.kind === 'file') return upload(track.localPath, track.sha256, label, signal);
    // A built track's bytes are fixed by its recipe: build, hash and upload it once per process.
    const identity = trackIdentity(track);
    const cached = trackUrls.get(identity);
    if (cached) {
      const known = knownUrls.get(cached);
      if (known && deps.now() - known.at < policy.uploadTtlMs) return known.url;
    }
    for (;;) {
      // Scenes starting together share one build and hash (a run's first few hundred all want the same silence).
      let built = trackBuilds.get(identity);
      const shared = built !== undefined;
      if (!built) {
        built = (async () => {
          const file = await materializeTrack(track, options.workDir, options.ffmpeg, signal);
          return { file, sha: await sha256File(file, signal) };
        })();
        trackBuilds.set(identity, built);
        // Shared while it runs only: a later scene builds again, which checks the file is still there.
        built.then(() => trackBuilds.delete(identity), () => trackBuilds.delete(identity));
      }
      try {
        const { file, sha } = await built;
        trackUrls.set(identity, sha);
        return await upload(file, sha, label, signal);
      } catch (error) {
        // Cut by the scene that started the build: this one goes on unless it was stopped too.
        if (shared && isAbort(error) && !signal?.aborted) continue;
        throw error;
      }
    }
  }

  async function forget(image: { sha256: string }, tracks: TrackSpec[], sent?: readonly string[]): Promise<void> {
    const shas = [image.sha256, ...tracks.map((t) => (t.kind === 'file' ? t.sha256 : trackUrls.get(trackIdentity(t))))];
    for (const sha of shas) {
      if (!sha) continue;
      if (sent) {
        const url = knownUrls.get(sha)?.url ?? (await options.uploads.get(sha, policy.uploadTtlMs));
        if (url === undefined || !sent.includes(url)) continue;
      }
      knownUrls.delete(sha);
      await options.uploads.forget(sha);
    }
  }

  return { upload, trackUrl, forget };
}
