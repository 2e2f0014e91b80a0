import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { Agent, FormData, type Dispatcher } from 'undici';
import { DEFAULTS } from '../../defaults.ts';
import { DuologueError, OutputError } from '../../errors.ts';
import type { UploadMemo } from '../../cache/uploads.ts';
import { abortError, type FfmpegPaths } from '../../media/ffmpeg.ts';
import { sha256File } from '../../media/hash.ts';
import { materializeTrack } from '../../media/tracks.ts';
import { trackIdentity, type TrackSpec } from '../../media/timeline.ts';
import { verifyClip } from '../../media/verify-clip.ts';
import { realSleep, type Sleep } from '../../sleep.ts';
import { PROVIDERS, estimateTask } from '../info.ts';
import type { Delivered, PollResult, Provider, RenderTask } from '../types.ts';
import { HttpStatusError, readEnvelope, send, type HttpDeps } from './http.ts';
import { DEFAULT_POLICY, deadlineFor, pollDelayMs, type WavespeedPolicy } from './policy.ts';

export const MODEL_PATH = '/api/v3/wavespeed-ai/infinitetalk/multi';

export interface WavespeedOptions {
  apiKey: string;
  /** @default https://api.wavespeed.ai (env WAVESPEED_BASE_URL) */
  baseUrl?: string;
  ffmpeg: FfmpegPaths;
  /** Where built dialogue/silent tracks are written before upload. */
  workDir: string;
  uploads: UploadMemo;
  /** @default one keep-alive Agent with the policy's timeouts */
  dispatcher?: Dispatcher;
  policy?: Partial<WavespeedPolicy>;
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
  onRetry?: HttpDeps['onRetry'];
}

interface Prediction {
  id?: string;
  status?: string;
  outputs?: unknown[];
  error?: string;
  timings?: { inference?: number };
}

const FINAL_FAILURES = new Set(['failed', 'cancelled', 'canceled', 'timeout']);

/**
 * WaveSpeed InfiniteTalk Multi over HTTP (undici). The key is sent only to
 * the base URL's origin, never to upload or output hosts, and never appears
 * in an error message.
 */
export function createWavespeedProvider(options: WavespeedOptions): Provider {
  const policy: WavespeedPolicy = { ...DEFAULT_POLICY, ...options.policy };
  const base = new URL(options.baseUrl ?? DEFAULTS.baseUrl);
  const ownsDispatcher = !options.dispatcher;
  const dispatcher =
    options.dispatcher ??
    new Agent({
      connect: { timeout: policy.connectTimeoutMs },
      headersTimeout: policy.headersTimeoutMs,
      bodyTimeout: policy.bodyTimeoutMs,
      keepAliveTimeout: 10_000,
    });
  const deps: HttpDeps = {
    dispatcher,
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    policy,
    onRetry: options.onRetry,
  };
  const apiUrl = (p: string) => new URL(p, base).toString();
  /** Auth only for the API's own origin; any other host gets no key. */
  const headersFor = (url: string, extra: Record<string, string> = {}) =>
    new URL(url).origin === base.origin ? { ...extra, authorization: `Bearer ${options.apiKey}` } : extra;
  const redact = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      if (error instanceof Error && options.apiKey && error.message.includes(options.apiKey)) {
        error.message = error.message.split(options.apiKey).join('[redacted]');
      }
      throw error;
    });
  const inFlightUploads = new Map<string, Promise<string>>();
  // Per-process memory over the cache database: one lookup per distinct file, not per scene.
  const knownUrls = new Map<string, { url: string; at: number }>();
  const trackUrls = new Map<string, string>();
  const madeDirs = new Set<string>();

  async function upload(file: string, sha256: string, label: string, signal?: AbortSignal): Promise<string> {
    const known = knownUrls.get(sha256);
    if (known && deps.now() - known.at < policy.uploadTtlMs) return known.url;
    const remembered = options.uploads.get(sha256, policy.uploadTtlMs);
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
      options.uploads.put(sha256, data.download_url);
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
    const file = await materializeTrack(track, options.workDir, options.ffmpeg, signal);
    const sha = await sha256File(file, signal);
    trackUrls.set(identity, sha);
    return upload(file, sha, label, signal);
  }

  const provider: Provider = {
    info: PROVIDERS.wavespeed,

    submit: (task, { signal, onSubmitting } = {}) =>
      redact(
        (async () => {
          const label = `${task.episodeId}/${task.sceneId}`;
          const image = /^https?:\/\//i.test(task.image.location) ? task.image.location : await upload(task.image.localPath, task.image.sha256, label, signal);
          const [left, right] = await Promise.all([trackUrl(task.tracks.left, label, signal), trackUrl(task.tracks.right, label, signal)]);
          const body = JSON.stringify({
            left_audio: left,
            right_audio: right,
            image,
            ...(task.prompt ? { prompt: task.prompt } : {}),
            order: task.order,
            resolution: task.resolution,
            seed: task.seed,
          });
          const url = apiUrl(MODEL_PATH);
          if (signal?.aborted) throw abortError(signal);
          onSubmitting?.();
          const res = await send(
            {
              method: 'POST',
              url,
              label: `[POST] "${url}" (${label})`,
              headers: headersFor(url, { 'content-type': 'application/json' }),
              body: () => body,
              mode: 'submit',
              signal,
            },
            deps,
          );
          let data: Prediction;
          try {
            data = await readEnvelope<Prediction>(res, `submit ${label}`);
          } catch (error) {
            // A 2xx whose body we cannot read may still have created the task.
            throw new DuologueError('E_API', `${(error as Error).message} — the task may have been created and billed; it is not resubmitted this run`, { cause: error });
          }
          if (typeof data.id !== 'string' || data.id === '') {
            throw new DuologueError('E_API', `submit ${label}: the response has no data.id — the task may have been created and billed; it is not resubmitted this run`);
          }
          return { predictionId: data.id };
        })(),
      ),

    poll: (id, task, { signal } = {}) =>
      redact(
        (async (): Promise<PollResult> => {
          const label = `${task.episodeId}/${task.sceneId} (prediction ${id})`;
          const url = apiUrl(`/api/v3/predictions/${encodeURIComponent(id)}/result`);
          const res = await send({ method: 'GET', url, label: `[GET] "${url}" (${label})`, headers: headersFor(url), mode: 'idempotent', signal }, deps);
          const data = await readEnvelope<Prediction>(res, `result of ${label}`);
          const status = String(data.status ?? '');
          if (status === 'completed') {
            const output = Array.isArray(data.outputs) ? data.outputs[0] : undefined;
            if (typeof output !== 'string' || !/^https?:\/\//.test(output)) {
              throw new DuologueError('E_API', `${label}: completed with no output URL`);
            }
            return { status: 'completed', outputUrl: output, inferenceSeconds: data.timings?.inference };
          }
          if (FINAL_FAILURES.has(status)) {
            return { status: 'failed', error: `${status}${data.error ? `: ${data.error}` : ''}` };
          }
          if (status === 'created' || status === 'processing' || status === 'queued') return { status: status === 'created' ? 'created' : 'processing' };
          throw new DuologueError('E_API', `${label}: unknown status ${JSON.stringify(data.status)}`);
        })(),
      ),

    async wait(id, task, { signal, deadline } = {}) {
      const until = deadline ?? deps.now() + deadlineFor(task.videoSeconds, policy);
      let unreadable = 0;
      for (let n = 0; ; n++) {
        let result: PollResult;
        try {
          result = await provider.poll(id, task, { signal });
          unreadable = 0;
        } catch (error) {
          // An unreadable answer (a proxy's HTML page, a half-written body) says nothing about
          // the prediction: look again, a bounded number of times in a row.
          const e = error as DuologueError;
          if (e.code !== 'E_API' || ++unreadable >= policy.maxAttempts) throw error;
          await deps.sleep(policyBackoff(unreadable), signal);
          continue;
        }
        if (result.status === 'completed' || result.status === 'failed') return result;
        const remaining = until - deps.now();
        if (remaining <= 0) {
          throw new DuologueError(
            'E_DEADLINE',
            `${task.episodeId}/${task.sceneId}: prediction ${id} still ${result.status} at the deadline; its id is kept and the next run resumes it`,
          );
        }
        await deps.sleep(Math.min(remaining, pollDelayMs(n, policy)), signal);
      }
    },

    download: (result, task, dest, { signal } = {}) =>
      redact(
        (async (): Promise<Delivered> => {
          const label = `${task.episodeId}/${task.sceneId}`;
          if (result.status !== 'completed' || !result.outputUrl) throw new DuologueError('E_INTERNAL', `download of ${label} before it completed`);
          const url = result.outputUrl;
          if (!madeDirs.has(path.dirname(dest))) {
            await mkdir(path.dirname(dest), { recursive: true });
            madeDirs.add(path.dirname(dest));
          }
          const tmp = `${dest}.${process.pid}.download`;
          let sha256 = '';
          let bytes = 0;
          try {
            for (let attempt = 1; ; attempt++) {
              const res = await send({ method: 'GET', url, label: `[GET] output of ${label}`, headers: headersFor(url), mode: 'idempotent', signal }, deps).catch(
                (error: unknown) => {
                  if (error instanceof HttpStatusError && (error.status === 404 || error.status === 410)) {
                    throw new OutputError(`${label}: the output is gone (${error.status} from the output host); provider URLs expire`, { cause: error });
                  }
                  throw error;
                },
              );
              const expected = Number(res.headers['content-length']);
              try {
                // Hash while writing: the clip is not read back just to hash it.
                const hash = createHash('sha256');
                let got = 0;
                const tap = new Transform({
                  transform(chunk: Buffer, _enc, done) {
                    hash.update(chunk);
                    got += chunk.length;
                    done(null, chunk);
                  },
                });
                await pipeline(res.body, tap, createWriteStream(tmp), { signal });
                sha256 = hash.digest('hex');
                bytes = got;
                if (Number.isFinite(expected) && got !== expected) throw Object.assign(new Error(`got ${got} of ${expected} bytes`), { code: 'TRUNCATED' });
                break;
              } catch (error) {
                if (signal?.aborted) throw abortError(signal);
                if (attempt >= policy.maxAttempts) throw new DuologueError('E_API', `${label}: download failed after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
                await deps.sleep(policyBackoff(attempt), signal);
              }
            }
            const durationSeconds = await verifyClip(tmp, task.videoSeconds, `${label} (prediction output)`);
            await rename(tmp, dest);
            return { path: dest, bytes, durationSeconds, sha256 };
          } finally {
            await rm(tmp, { force: true });
          }
        })(),
      ),

    estimateUsd: (task) => estimateTask(task, PROVIDERS.wavespeed.prices),
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
  function policyBackoff(attempt: number): number {
    return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * policy.backoffFactor ** (attempt - 1));
  }
  return provider;
}
