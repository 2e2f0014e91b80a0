import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { FakeWavespeed, type FakeOptions } from '../fakes/wavespeed-server.ts';

export const KEY = 'sk-engine-test-0badc0ffee';
export const ffmpeg = resolveFfmpegPaths();
const root = path.join(import.meta.dirname, '../..');

/** A started fake; its scratch folder (when made here) is removed by stop(). */
export async function startFake(options: Partial<FakeOptions> = {}): Promise<FakeWavespeed> {
  const workDir = options.workDir ?? mkdtempSync(path.join(tmpdir(), 'dl-eng-fake-'));
  const fake = await new FakeWavespeed({ apiKey: KEY, ffmpeg, workDir, msPerVideoSecond: 2, ...options }).start();
  const stop = fake.stop.bind(fake);
  fake.stop = async () => {
    await stop();
    // Retried: an ffmpeg the fake started for a task may still be writing its output as the server stops.
    if (!options.workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };
  return fake;
}

export interface Child {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  exit: Promise<number | null>;
}

/** Starts render-child.mts in a new process against the fake server. */
export function renderChild(args: { manifest: string; cacheDir: string; baseUrl: string; concurrency?: number; budgetUsd?: number; retryAmbiguous?: boolean; tier?: 'bronze' | 'silver' | 'gold' | 'ultra'; rateWindowMs?: number; rateWindowSlack?: number }): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/helpers/render-child.mts'), JSON.stringify({ ...args, apiKey: KEY })], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) events.push(JSON.parse(line));
    }
  });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      if (code !== 0 && code !== null && process.env.DEBUG_CHILD) console.error(stderr);
      resolve(code);
    }),
  );
  return { proc, events, exit };
}

/** Polls a condition until true (bounded); for waiting on another process. */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
