/**
 * The attack tests' workers: `duologue render` processes each playing a host
 * of its own (fake-host.mjs), with a cache dir of its own, killed with -9
 * after each test if still running; and a one-shot query of the shared
 * PostgreSQL to read what the run booked.
 */
import { connect } from '../../pipeline/cache/postgres/db.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { startMachine, type Machine } from './machine.ts';
import { useProcesses } from './processes.ts';

export type HostWorker = Pick<Machine, 'child' | 'stderr' | 'stdout' | 'exit'>;

/** Registers the clean-up; `fakes` is for the test's fake servers, stopped after each test. */
export function useHostWorkers(): { fakes: FakeWavespeed[]; worker: (host: string, manifest: string, env: NodeJS.ProcessEnv, extra: string[]) => HostWorker } {
  const { fakes, children } = useProcesses();
  return { fakes, worker: (host, manifest, env, extra) => startMachine(host, manifest, env, extra, children) };
}

export async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const server = connect(url);
  try {
    return await server.sql.rows<T>(text, values);
  } finally {
    await server.pool.end();
  }
}
