/**
 * Inside the reading thread: readManifests on the files it was given, the
 * result (plain data) posted back once. A throw is posted as its name, code
 * and message, since an Error's class does not survive the copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DuologueError } from '../errors.ts';
import { readManifests } from './load.ts';

const files = (workerData as { files: string[] }).files;
try {
  parentPort!.postMessage({ ok: true, result: await readManifests(files) });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  parentPort!.postMessage({ ok: false, name: e.name, message: e.message, stack: e.stack, code: e instanceof DuologueError ? e.code : undefined });
}
