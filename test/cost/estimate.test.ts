/**
 * The cost rules of DESIGN.md "Cost", checked with numbers worked by hand:
 * video seconds by order, billed = max(minimum, ceil(video seconds)), price
 * per second = price per block ÷ block seconds, per resolution.
 */
import { describe, expect, it } from 'vitest';
import { billedSeconds, chargeFor, costUsd, estimate, videoMillis } from '../../pipeline/cost/estimate.ts';
import { CURRENT_PRICE_TABLE, type PriceTable } from '../../pipeline/cost/price-table.ts';
import type { Order, Resolution } from '../../pipeline/types.ts';

const prices = CURRENT_PRICE_TABLE;

describe('cost model', () => {
  it('meanwhile takes the longer side, sequential orders the sum', () => {
    expect(videoMillis('meanwhile', 3_000, 4_500)).toBe(4_500);
    expect(videoMillis('left_right', 3_000, 4_500)).toBe(7_500);
    expect(videoMillis('right_left', 3_000, 4_500)).toBe(7_500);
  });

  it('the current table is the contract: 5 s minimum, $0.15 per 5 s at 480p, $0.30 per 5 s at 720p', () => {
    expect(prices).toMatchObject({ minimumBilledSeconds: 5, blockSeconds: 5, pricePerBlock: { '480p': 0.15, '720p': 0.3 } });
    expect(prices.version.endsWith(prices.readAt)).toBe(true); // a report can say which day's prices it used
  });

  // [order, left ms, right ms, resolution, video s, billed s, USD], each worked by hand at $0.03/s (480p), $0.06/s (720p).
  const cases: [Order, number, number, Resolution, number, number, number][] = [
    ['meanwhile', 1, 0, '480p', 0.001, 5, 0.15], // minimum: a blip bills 5 s
    ['meanwhile', 1_000, 0, '720p', 1, 5, 0.3], // minimum at 720p: 5 × 0.06
    ['meanwhile', 4_999, 2_000, '480p', 4.999, 5, 0.15], // still under the minimum
    ['meanwhile', 5_000, 5_000, '480p', 5, 5, 0.15], // exactly the minimum
    ['left_right', 2_500, 2_501, '480p', 5.001, 6, 0.18], // 1 ms over a whole second bills the next one
    ['left_right', 2_976, 3_134, '480p', 6.11, 7, 0.21], // ceil(6.11) = 7 → 7 × 0.03
    ['right_left', 2_976, 3_134, '720p', 6.11, 7, 0.42], // same length, twice the price per second
    ['meanwhile', 7_000, 6_999, '720p', 7, 7, 0.42], // a whole second is not rounded up
    ['left_right', 30_000, 30_500, '480p', 60.5, 61, 1.83], // 61 × 0.03
    ['meanwhile', 599_001, 0, '720p', 599.001, 600, 36], // 600 × 0.06
  ];
  it.each(cases)('%s %i ms + %i ms at %s: %f s of video bills %i s = $%f', (order, left, right, res, video, billed, usd) => {
    expect(estimate(order, left, right, res, prices)).toMatchObject({ videoSeconds: video, billedSeconds: billed, costUsd: usd });
  });

  it('follows the table, not fixed numbers: 3 s minimum, $0.20 per 4 s at 480p, $0.50 per 4 s at 720p', () => {
    // Price per second: 0.20 / 4 = $0.05 (480p), 0.50 / 4 = $0.125 (720p).
    const other: PriceTable = { ...prices, version: 'test/other', minimumBilledSeconds: 3, blockSeconds: 4, pricePerBlock: { '480p': 0.2, '720p': 0.5 } };
    expect(billedSeconds(1_200, other)).toBe(3); // the minimum is data
    expect(estimate('meanwhile', 2_200, 0, '480p', other)).toMatchObject({ billedSeconds: 3, costUsd: 0.15 }); // 3 × 0.05
    expect(estimate('meanwhile', 2_200, 0, '720p', other)).toMatchObject({ billedSeconds: 3, costUsd: 0.375 }); // 3 × 0.125
    expect(estimate('left_right', 2_000, 2_010, '480p', other)).toMatchObject({ billedSeconds: 5, costUsd: 0.25 }); // ceil(4.01) = 5
    expect(costUsd(8, '720p', other)).toBe(1); // 8 × 0.125
  });

  it('a delivered clip is charged by the same rule, free of float noise', () => {
    expect(chargeFor(4.2, '480p', prices)).toBe(0.15); // minimum
    expect(chargeFor(6.000000001, '480p', prices)).toBe(0.18); // a decoder's 6.000000001 s is 6 s, not 7
    expect(chargeFor(6.04, '720p', prices)).toBe(0.42); // one frame over 6 s bills 7 s
  });

  it('the most a render may cost allows the clip check\'s 0.5 s tolerance', () => {
    // 6.95 s plans 7 s ($0.21); an accepted clip of up to 7.45 s bills 8 s ($0.24).
    expect(estimate('left_right', 2_500, 4_450, '480p', prices)).toMatchObject({ costUsd: 0.21, maxUsd: 0.24 });
    // 6.11 s plans 7 s; up to 6.61 s still bills 7 s: the worst case is the plan.
    expect(estimate('left_right', 2_976, 3_134, '480p', prices)).toMatchObject({ costUsd: 0.21, maxUsd: 0.21 });
  });
});
