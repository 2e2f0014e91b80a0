/**
 * What a test that starts `duologue` processes and fake servers must clean
 * up: after each test, every child still running is killed with -9 (a test
 * that failed half-way must not leave a worker paying on) and every fake is
 * stopped; after the file, its temp dirs are removed.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';

export interface TestProcesses {
  children: ChildProcess[];
  fakes: FakeWavespeed[];
  dirs: string[];
}

/** Registers the clean-up hooks of the calling test file; push what the tests start. */
export function useProcesses(): TestProcesses {
  const started: TestProcesses = { children: [], fakes: [], dirs: [] };
  afterEach(async () => {
    for (const c of started.children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(started.fakes.splice(0).map((f) => f.stop()));
  });
  afterAll(() => {
    for (const d of started.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return started;
}
