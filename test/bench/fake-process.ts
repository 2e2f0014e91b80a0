/**
 * The fake WaveSpeed in another process (test/fakes/serve.mts), so a bench's
 * CPU figures are duologue's alone; `stats()` asks it what it served.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { FakeOptions, Route } from '../fakes/wavespeed-server.ts';

export interface FakeStats {
  routeCounts: Record<Route, number>;
  chargedUsd: number;
  submissions: number;
}

export interface FakeProcess {
  apiUrl: string;
  stats(): Promise<FakeStats>;
  stop(): void;
}

export async function startFakeProcess(options: Omit<FakeOptions, 'ffmpeg'>): Promise<FakeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../fakes/serve.mts'), JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      pending.push(resolve);
      child.once('exit', (code) => reject(new Error(`the fake server exited (${code})`)));
    });
  const { apiUrl } = JSON.parse(await next()) as { apiUrl: string };
  return {
    apiUrl,
    async stats() {
      const answer = next();
      child.stdin!.write('stats\n');
      return JSON.parse(await answer) as FakeStats;
    },
    stop() {
      child.stdin!.end();
      child.kill('SIGTERM');
    },
  };
}
