import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/soak/**', 'node_modules/**'],
    // ffmpeg and child processes make some tests slow on 2 cores; none waits on wall-clock time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each test file's temp folders live under one root, removed when the file ends.
    setupFiles: ['test/helpers/tmp-root.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
});
