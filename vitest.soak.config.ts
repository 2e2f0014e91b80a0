import { defineConfig } from 'vitest/config';

/** `npm run soak`: the long reliability runs (minutes), kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/soak/**/*.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    // Each test file's temp folders live under one root, removed when the file ends.
    setupFiles: ['test/helpers/tmp-root.ts'],
    pool: 'forks',
    maxWorkers: 1,
  },
});
