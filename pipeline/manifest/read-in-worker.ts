/**
 * readManifests in a thread of its own, for large manifests. Parsing YAML,
 * checking the schema and normalizing 10,000 scenes allocates ~60 MB that
 * is garbage a moment later. In the main thread that garbage sets V8's
 * limit for its next full collection (up to 4× what it finds live while
 * parsing), so the render that follows started with a ~200 MB allowance
 * and its peak memory depended on when that collection came (250–380 MB for
 * the same run). A worker's heap is freed whole when it ends: the main heap
 * only ever holds the series it gets back.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { abortError, DuologueError, type ErrorCode } from '../errors.ts';
import { internSeries } from './intern.ts';
import { readManifests, type LoadResult } from './load.ts';

/** Manifests this large in all (~5,000 one-line scenes) are read in a worker; smaller ones are not worth a thread's start. */
export const WORKER_MIN_BYTES = 256 * 1024;

export type ReadIn = 'auto' | 'worker' | 'thread';

type Answer = { ok: true; result: LoadResult } | { ok: false; name: string; message: string; stack?: string; code?: ErrorCode };

/** readManifests, in a worker when `where` says so or (`auto`) when the files are large. Same result, same diagnostics. */
export async function readManifestsWhere(files: readonly string[], where: ReadIn = 'auto', signal?: AbortSignal): Promise<LoadResult> {
  if (where === 'thread' || (where === 'auto' && (await totalBytes(files)) < WORKER_MIN_BYTES)) return readManifests(files);
  return readManifestsInWorker(files, signal);
}

export async function readManifestsInWorker(files: readonly string[], signal?: AbortSignal): Promise<LoadResult> {
  if (signal?.aborted) throw abortError(signal);
  // No inherited flags: the entry registers its own TypeScript loader (see read-worker.mjs).
  const worker = new Worker(new URL('./read-worker.mjs', import.meta.url), { workerData: { files: [...files] }, execArgv: [] });
  const answer = await new Promise<Answer>((resolve, reject) => {
    const onAbort = () => {
      void worker.terminate();
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    worker.once('message', (m: Answer) => {
      done();
      resolve(m);
    });
    worker.once('error', (e) => {
      done();
      reject(e);
    });
    worker.once('exit', (code) => {
      done();
      reject(new Error(`the manifest reader thread exited (${code}) without an answer`));
    });
  });
  await worker.terminate();
  if (!answer.ok) {
    const error = answer.code ? new DuologueError(answer.code, answer.message) : new Error(answer.message);
    error.stack = answer.stack;
    throw error;
  }
  internSeries(answer.result.series);
  return answer.result;
}

async function totalBytes(files: readonly string[]): Promise<number> {
  let sum = 0;
  for (const file of files) sum += await stat(file).then((s) => s.size, () => 0);
  return sum;
}
