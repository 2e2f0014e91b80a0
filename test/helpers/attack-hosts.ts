/**
 * The attack tests' workers: `duologue render` processes each playing a host
 * of its own (fake-host.mjs), with a cache dir of its own, killed with -9
 * after each test if still running; and a one-shot query of the shared
 * PostgreSQL to read what the run booked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const preload = path.join(import.meta.dirname, 'fake-host.mjs');

export interface HostWorker {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

/** Registers the clean-up; `fakes` is for the test's fake servers, stopped after each test. */
export function useHostWorkers(): { fakes: FakeWavespeed[]; worker: (host: string, manifest: string, env: NodeJS.ProcessEnv, extra: string[]) => HostWorker } {
  const fakes: FakeWavespeed[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });
  const worker = (host: string, manifest: string, env: NodeJS.ProcessEnv, extra: string[]): HostWorker => {
    const dir = mkdtempSync(path.join(tmpdir(), `dl-attack-${host}-`));
    const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--no-report', '--json', ...extra];
    const child = spawn(process.execPath, ['--import', preload, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true', ...env, DUOLOGUE_TEST_HOSTNAME: host } });
    children.push(child);
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, stderr: () => stderr, stdout: () => stdout, exit };
  };
  return { fakes, worker };
}

export async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const server = connect(url);
  try {
    return await server.sql.rows<T>(text, values);
  } finally {
    await server.pool.end();
  }
}
