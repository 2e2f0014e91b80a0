/** The in-memory upload memo (tests, one-off use) keeps the same rules as the store's. */
import { describe, it } from 'vitest';
import { createMemoryUploadMemo } from '../../pipeline/cache/uploads.ts';
import { uploadMemoBehaves } from './contract.ts';

describe('in-memory upload memo', () => {
  it('remembers a URL until it ages out, and forgets on demand', async () => {
    const clock = { now: 1_000 };
    await uploadMemoBehaves(createMemoryUploadMemo(() => clock.now), clock);
  });
});
