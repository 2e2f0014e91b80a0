/**
 * A "machine" for multi-machine tests: `duologue render` in a process of its
 * own, under a host name of its own (fake-host.mjs, so other workers judge its
 * claims by their lease alone), with a cache dir and an output dir of its own.
 * The caller gives the shared store and clips through the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './cli.ts';
import { KEY } from './engine.ts';

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

/**
 * The reference for multi-machine tests: `manifest` rendered by one machine
 * alone (SQLite, a folder of its own) against the fake at `apiUrl`; each
 * episode's bytes by id.
 */
export async function aloneEpisodes(manifest: string, apiUrl: string): Promise<Map<string, Buffer>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-alone-'));
  const run = await runCli(['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--json', '--no-report'], {
    WAVESPEED_API_KEY: KEY,
    WAVESPEED_BASE_URL: apiUrl,
    DUOLOGUE_TIME_SCALE: '0.05',
  });
  if (run.code !== 0) throw new Error(`the one-machine reference render exited ${run.code}:\n${run.stderr}`);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { episodes: { id: string; output: string }[] };
  return new Map(summary.episodes.map((e) => [e.id, readFileSync(e.output)]));
}
