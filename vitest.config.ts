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
    // Three files at once on 2 cores: the multi-process tests spend most of their time waiting on
    // child processes and scaled timers (773 tests: 415 s wall with 3, 479 s with 2).
    maxWorkers: 3,
    // `npm run coverage`: line coverage of the source only (tests, fakes and helpers are not the product).
    // Code run in child processes (render-child.mts, the bin) is not counted.
    coverage: {
      provider: 'v8',
      include: ['pipeline/**/*.ts'],
      reporter: ['text-summary'],
      // A failing test must not hide the numbers.
      reportOnFailure: true,
    },
  },
});
