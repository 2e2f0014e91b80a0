/** Where billed seconds go: speech, edge silence, padding to the minimum, rounding up. */
import { describe, expect, it } from 'vitest';
import { CURRENT_PRICE_TABLE as T, LOCAL_PRICE_TABLE } from '../../pipeline/cost/price-table.ts';
import { estimate } from '../../pipeline/cost/estimate.ts';
import { addSplits, splitBilled, splitUsd } from '../../pipeline/cost/waste.ts';

describe('splitBilled', () => {
  it('a 3.2 s scene pays 1.8 s of padding to the 5 s minimum', () => {
    expect(splitBilled(3200, 0, 0, T)).toEqual({ billedMs: 5000, speechMs: 3200, leadingSilenceMs: 0, trailingSilenceMs: 0, paddingMs: 1800, roundingMs: 0 });
  });

  it('a 6.05 s scene pays 0.95 s of rounding up to 7 s', () => {
    expect(splitBilled(6050, 0, 0, T)).toEqual({ billedMs: 7000, speechMs: 6050, leadingSilenceMs: 0, trailingSilenceMs: 0, paddingMs: 0, roundingMs: 950 });
  });

  it('room tone at each end is silence, not speech; the parts add up to the billed length', () => {
    const s = splitBilled(8400, 600, 650, T);
    expect(s).toEqual({ billedMs: 9000, speechMs: 7150, leadingSilenceMs: 600, trailingSilenceMs: 650, paddingMs: 0, roundingMs: 600 });
    expect(s.speechMs + s.leadingSilenceMs + s.trailingSilenceMs + s.paddingMs + s.roundingMs).toBe(s.billedMs);
  });

  it('an exact whole-second clip has no rounding; an all-silent one is all leading silence', () => {
    expect(splitBilled(7000, 0, 0, T).roundingMs).toBe(0);
    const silent = splitBilled(2000, 2000, 2000, T);
    expect(silent).toMatchObject({ speechMs: 0, leadingSilenceMs: 2000, trailingSilenceMs: 0, paddingMs: 3000 });
  });

  it('with no minimum (a free provider) there is no padding', () => {
    expect(splitBilled(3200, 0, 0, LOCAL_PRICE_TABLE)).toMatchObject({ billedMs: 4000, paddingMs: 0, roundingMs: 800 });
  });
});

describe('splitUsd', () => {
  it('prices each part per second and the parts add up to the scene estimate', () => {
    for (const [ms, lead, trail, res] of [[3200, 400, 300, '480p'], [6050, 0, 1000, '720p'], [12_345, 777, 1, '480p']] as const) {
      const usd = splitUsd(splitBilled(ms, lead, trail, T), res, T);
      const total = estimate('meanwhile', ms, 0, res, T).costUsd;
      expect(Math.round((usd.speechUsd + usd.wasteUsd) * 10_000) / 10_000).toBe(total);
    }
    // 3.2 s at 480p: $0.15; 1.8 s padding = $0.054; 0.7 s silence = $0.021
    expect(splitUsd(splitBilled(3200, 400, 300, T), '480p', T)).toEqual({ speechUsd: 0.075, silenceUsd: 0.021, paddingUsd: 0.054, roundingUsd: 0, wasteUsd: 0.075 });
  });

  it('sums splits field by field', () => {
    expect(addSplits([splitBilled(3200, 0, 0, T), splitBilled(6050, 0, 0, T)])).toMatchObject({ billedMs: 12_000, paddingMs: 1800, roundingMs: 950, speechMs: 9250 });
  });
});
