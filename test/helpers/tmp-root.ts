/**
 * Setup file (vitest.config.ts): each test file gets its own temp root, and
 * everything under it is removed when the file's tests end, pass or fail.
 * `os.tmpdir()` reads TMPDIR on every call, so every `mkdtemp(tmpdir())` of
 * the file — helpers, fakes, and the child processes it starts — lands in the
 * root: no test leaves `dl-*` / `duologue-*` folders behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

// The system temp dir, remembered once: a worker that runs several files must not nest roots.
const base = (process.env.DUOLOGUE_TEST_TMP_BASE ??= tmpdir());
const root = mkdtempSync(path.join(base, 'duologue-test-'));
process.env.TMPDIR = root;

// Registered first, so it runs after the file's own afterAll hooks (vitest runs them as a stack).
afterAll(() => {
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
});
