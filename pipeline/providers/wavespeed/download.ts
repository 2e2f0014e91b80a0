import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import { pipeline } from 'node:stream/promises';
import { DuologueError, HttpStatusError, OutputError, abortError } from '../../errors.ts';
import { verifyClip } from '../../media/verify-clip.ts';
import type { Delivered, PollResult, RenderTask } from '../types.ts';
import type { ApiContext } from './context.ts';
import { send } from './http.ts';
import { baseBackoffMs } from './policy.ts';
import { tempTag } from '../../temp-tag.ts';

/** Redirects followed to an output file: a CDN uses one or two; more is a loop. */
const MAX_OUTPUT_REDIRECTS = 5;

/**
 * Fetches a finished clip from the output host (never with the key) to a temp
 * file beside `dest`, hashing it on the way, retrying transient failures and
 * short bodies; checks it; renames it into place. An expired (404/410) or
 * unusable output is an OutputError: only a new render can help.
 */
/** Clips up to this size are checked from the bytes just downloaded (a 5 s 480p clip is about 1 MB). */
const KEEP_IN_MEMORY = 4 * 1024 * 1024;

/** What a downloaded output is checked with: its length in seconds, or a throw (an unusable output). */
export type OutputCheck = (file: Buffer | string, task: Pick<RenderTask, 'videoSeconds'>, label: string, tmpPath: string) => Promise<number>;

/** Downloads outputs; `check` @default verifyClip (an mp4 of the planned length); speech checks audio. */
export function createDownloader(
  ctx: ApiContext,
  check: OutputCheck = (file, task, label) => verifyClip(file, task.videoSeconds, label),
): (result: PollResult, task: Pick<RenderTask, 'episodeId' | 'sceneId' | 'videoSeconds'>, dest: string, signal?: AbortSignal) => Promise<Delivered> {
  const { deps, policy, headersFor } = ctx;
  const madeDirs = new Set<string>();

  /**
   * GETs an output, following redirects (an output link often answers with
   * one to the storage that holds the file). Each hop's headers are chosen
   * for that hop's origin: a redirect from the API's origin to a CDN never
   * carries the key there.
   */
  async function openOutput(url: string, label: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const res = await send({ method: 'GET', url: target, label: `[GET] output of ${label}`, headers: headersFor(target), mode: 'idempotent', signal, returnRedirects: true }, deps);
      if (res.statusCode < 300) return res;
      res.body.resume(); // a redirect's body says nothing; let the connection be reused
      if (hop >= MAX_OUTPUT_REDIRECTS) throw new DuologueError('E_API', `[GET] output of ${label}: more than ${MAX_OUTPUT_REDIRECTS} redirects (a loop at the output host?)`);
      const next = new URL(String(res.headers.location), target);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new DuologueError('E_API', `[GET] output of ${label}: redirected to a ${next.protocol} URL`);
      target = next.toString();
    }
  }

  return async (result, task, dest, signal) => {
    const label = `${task.episodeId}/${task.sceneId}`;
    if (result.status !== 'completed' || !result.outputUrl) throw new DuologueError('E_INTERNAL', `download of ${label} before it completed`);
    const url = result.outputUrl;
    if (!madeDirs.has(path.dirname(dest))) {
      await mkdir(path.dirname(dest), { recursive: true });
      madeDirs.add(path.dirname(dest));
    }
    const tmp = `${dest}.${tempTag()}.download`;
    let sha256 = '';
    let bytes = 0;
    let inMemory: Buffer | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        const res = await openOutput(url, label, signal).catch((error: unknown) => {
          if (error instanceof HttpStatusError && (error.status === 404 || error.status === 410)) {
            throw new OutputError(`${label}: the output is gone (${error.status} from the output host)`, { cause: error, unavailable: true });
          }
          throw error;
        });
        const expected = Number(res.headers['content-length']);
        try {
          let got = 0;
          if (Number.isFinite(expected) && expected <= KEEP_IN_MEMORY) {
            // A clip of known small size is read whole, hashed once and written in one call: a
            // write stream costs several times the system time per file, for the same bytes.
            const chunks: Buffer[] = [];
            for await (const chunk of res.body) {
              got += (chunk as Buffer).length;
              if (got > expected) break; // more than announced: the mismatch below says so
              chunks.push(chunk as Buffer);
              if (signal?.aborted) throw abortError(signal);
            }
            if (got > expected) res.body.destroy();
            inMemory = Buffer.concat(chunks, Math.min(got, expected));
            sha256 = createHash('sha256').update(inMemory).digest('hex');
            // Written synchronously: a few hundred kilobytes into the page cache take a fraction of a
            // millisecond, less than the three thread-pool round trips of an async open, write and close.
            if (got === expected) writeFileSync(tmp, inMemory);
          } else {
            // Hash while writing: the clip is not read back just to hash it.
            const hash = createHash('sha256');
            // A small clip is also kept in memory while it is written, so its check needs no second read.
            let kept: Buffer[] | undefined = [];
            const tap = new Transform({
              transform(chunk: Buffer, _enc, done) {
                hash.update(chunk);
                got += chunk.length;
                if (kept && got <= KEEP_IN_MEMORY) kept.push(chunk);
                else kept = undefined;
                done(null, chunk);
              },
            });
            await pipeline(res.body, tap, createWriteStream(tmp), { signal });
            sha256 = hash.digest('hex');
            inMemory = kept && Buffer.concat(kept, got);
          }
          bytes = got;
          if (Number.isFinite(expected) && got !== expected) throw Object.assign(new Error(`got ${got} of ${expected} bytes`), { code: 'TRUNCATED' });
          break;
        } catch (error) {
          if (signal?.aborted) throw abortError(signal);
          if (attempt >= policy.maxAttempts) throw new DuologueError('E_API', `${label}: download failed after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
          await deps.sleep(baseBackoffMs(attempt, policy), signal);
        }
      }
      const durationSeconds = await check(inMemory ?? tmp, task, `${label} (prediction output)`, tmp);
      if (inMemory) renameSync(tmp, dest);
      else await rename(tmp, dest);
      return { path: dest, bytes, durationSeconds, sha256 };
    } catch (error) {
      await rm(tmp, { force: true }); // never leave a partial clip behind
      throw error;
    }
  };
}
