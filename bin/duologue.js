#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step to forget.
import { register } from 'tsx/esm/api';

register();
// Before anything runs: a long render's heap grows to at most 1.5× its live data (see pipeline/run/heap.ts).
(await import('../pipeline/run/heap.ts')).boundHeapGrowth();
const { main } = await import('../pipeline/cli.ts');

// First Ctrl-C: stop submitting, record what is in flight, exit 130.
// Second Ctrl-C: leave at once (the cache stays consistent: every write is a transaction).
const controller = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\ninterrupting: finishing bookkeeping (Ctrl-C again to quit now)\n');
  controller.abort(new Error('interrupted by SIGINT'));
  process.once('SIGINT', () => process.exit(130));
});
process.once('SIGTERM', () => controller.abort(new Error('terminated by SIGTERM')));

process.exitCode = await main({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
