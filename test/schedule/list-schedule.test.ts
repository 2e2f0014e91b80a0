import { describe, expect, it } from 'vitest';
import { listScheduleEnds, listScheduleMakespan } from '../../pipeline/schedule/list-schedule.ts';

describe('list schedule projection', () => {
  it('each job starts on the lane that frees first, in the order given', () => {
    // Lanes: 0→5 (a), 0→3 (b); c takes b's lane at 3 (→5); d the first free at 5 (→7).
    expect(listScheduleEnds([5, 3, 2, 2], 2)).toEqual([5, 3, 5, 7]);
    expect(listScheduleMakespan([5, 3, 2, 2], 2)).toBe(7);
  });

  it('more lanes than jobs: every job starts at once; one lane: one after another', () => {
    expect(listScheduleEnds([4, 9, 1], 8)).toEqual([4, 9, 1]);
    expect(listScheduleEnds([4, 9, 1], 1)).toEqual([4, 13, 14]);
    expect(listScheduleMakespan([], 4)).toBe(0);
  });

  it('matches a plain scan of the lanes on many lanes (the heap keeps 10,000 keys cheap)', () => {
    const durations = Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 97) + 1);
    const free = new Array<number>(37).fill(0);
    const expected = durations.map((d) => {
      const lane = free.indexOf(Math.min(...free));
      free[lane] += d;
      return free[lane];
    });
    expect(listScheduleEnds(durations, 37)).toEqual(expected);
  });
});
