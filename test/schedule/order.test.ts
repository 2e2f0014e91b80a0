import { describe, expect, it } from 'vitest';
import { submissionOrder } from '../../pipeline/schedule/order.ts';

describe('submission order', () => {
  it('resumes first, then longest first, ties in manifest order', () => {
    const jobs = [
      { id: 'a', action: 'render' as const, videoSeconds: 5 },
      { id: 'b', action: 'render' as const, videoSeconds: 30 },
      { id: 'c', action: 'resume' as const, videoSeconds: 1 },
      { id: 'd', action: 'render' as const, videoSeconds: 5 },
      { id: 'e', action: 'render' as const, videoSeconds: 12 },
    ];
    expect(submissionOrder(jobs).map((j) => j.id)).toEqual(['c', 'b', 'e', 'a', 'd']);
  });
});
