/**
 * A "machine" for multi-machine tests: `duologue render` in a process of its
 * own, under a host name of its own (fake-host.mjs, so other workers judge its
 * claims by their lease alone), with a cache dir and an output dir of its own.
 * The caller gives the shared store and clips through the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const preload = path.join(import.meta.dirname, 'fake-host.mjs');

export interface Machine {
  host: string;
  /** Its own folder: `cache` (its cache dir) and `out` (its --out, unless `extra` gives another). */
  dir: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
  /** The `--json` summary (the last stdout line), once it exited. */
  summary(): Summary;
}

export interface Summary {
  rendered: number;
  cached: number;
  failed: number;
  skipped?: number;
  cost_usd: number;
  episodes: { id: string; status: string; output?: string }[];
}

/** Starts `render manifest` as `host`; `extra` adds flags (`--run`, `--budget`...). */
export function startMachine(host: string, manifest: string, env: NodeJS.ProcessEnv, extra: string[] = [], track?: ChildProcess[]): Machine {
  const dir = mkdtempSync(path.join(tmpdir(), `dl-machine-${host}-`));
  const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report', ...extra];
  const child = spawn(process.execPath, ['--import', preload, bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', ...env, DUOLOGUE_TEST_HOSTNAME: host },
  });
  track?.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    host,
    dir,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    summary: () => JSON.parse(stdout.trim().split('\n').at(-1)!) as Summary,
  };
}
