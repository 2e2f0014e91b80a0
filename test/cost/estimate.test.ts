import { describe, expect, it } from 'vitest';
import { billedSeconds, costUsd, estimate, videoMillis } from '../../pipeline/cost/estimate.ts';
import { CURRENT_PRICE_TABLE, type PriceTable } from '../../pipeline/cost/price-table.ts';

const prices = CURRENT_PRICE_TABLE;

describe('cost model', () => {
  it('meanwhile takes the longer side, sequential orders the sum', () => {
    expect(videoMillis('meanwhile', 3_000, 4_500)).toBe(4_500);
    expect(videoMillis('left_right', 3_000, 4_500)).toBe(7_500);
    expect(videoMillis('right_left', 3_000, 4_500)).toBe(7_500);
  });

  it('rounds billed seconds up to the whole second', () => {
    expect(billedSeconds(7_001, prices)).toBe(8);
    expect(billedSeconds(7_000, prices)).toBe(7);
    expect(billedSeconds(5_999, prices)).toBe(6);
  });

  it('bills at least the 5 s minimum', () => {
    expect(billedSeconds(1, prices)).toBe(5);
    expect(billedSeconds(4_999, prices)).toBe(5);
    expect(billedSeconds(5_001, prices)).toBe(6);
  });

  it('the minimum is data: a 3 s table bills 3 s', () => {
    const three: PriceTable = { ...prices, version: 'test/3s', minimumBilledSeconds: 3 };
    expect(billedSeconds(1_200, three)).toBe(3);
  });

  it('480p is $0.03/s and 720p $0.06/s', () => {
    expect(costUsd(10, '480p', prices)).toBe(0.3);
    expect(costUsd(10, '720p', prices)).toBe(0.6);
    expect(costUsd(7, '480p', prices)).toBe(0.21);
  });

  it('estimates a whole scene', () => {
    expect(estimate('left_right', 2_976, 3_134, '480p', prices)).toEqual({ videoSeconds: 6.11, billedSeconds: 7, costUsd: 0.21, maxUsd: 0.21 });
    expect(estimate('meanwhile', 1_000, 0, '720p', prices)).toEqual({ videoSeconds: 1, billedSeconds: 5, costUsd: 0.3, maxUsd: 0.3 });
    // The clip check accepts 0.5 s more than planned, and the provider bills what it delivers: 6.95 s may bill 8 s.
    expect(estimate('left_right', 2_500, 4_450, '480p', prices)).toMatchObject({ costUsd: 0.21, maxUsd: 0.24 });
  });

  it('the price table records its version and the day it was read', () => {
    expect(prices.version).toMatch(/\d{4}-\d{2}-\d{2}$/);
    expect(prices.readAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
