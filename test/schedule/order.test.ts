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

  it('cache hits go first (they submit nothing, so no submit moves): an episode of hits is finished at the start', () => {
    const jobs = [
      { id: 'a', action: 'render' as const, videoSeconds: 30 },
      { id: 'b', action: 'cached' as const, videoSeconds: 5 },
      { id: 'c', action: 'resume' as const, videoSeconds: 1 },
      { id: 'd', action: 'cached' as const, videoSeconds: 9 },
    ];
    expect(submissionOrder(jobs).map((j) => j.id)).toEqual(['d', 'b', 'c', 'a']);
  });

  it('equal lengths: the scene whose episode has the least left to render first (it completes sooner); length still decides first', () => {
    const jobs = [
      { id: 'long1', episodeId: 'ep1', action: 'render' as const, videoSeconds: 10 },
      { id: 'long2', episodeId: 'ep1', action: 'render' as const, videoSeconds: 10 },
      { id: 'third1', episodeId: 'ep1', action: 'render' as const, videoSeconds: 10 },
      { id: 'near', episodeId: 'ep2', action: 'render' as const, videoSeconds: 10 },
      { id: 'done-already', episodeId: 'ep2', action: 'cached' as const, videoSeconds: 40 },
      { id: 'longest', episodeId: 'ep3', action: 'render' as const, videoSeconds: 50 },
    ];
    expect(submissionOrder(jobs).map((j) => j.id)).toEqual(['done-already', 'longest', 'near', 'long1', 'long2', 'third1']);
  });
});
