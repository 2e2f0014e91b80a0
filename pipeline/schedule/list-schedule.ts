/**
 * What the scheduler's lanes do with an order, projected: each of `slots`
 * lanes takes the next job as its last one ends (list scheduling). Pure; the
 * order is judged with it before a single submit (order.ts), and tests
 * measure an order's episode completion times with it.
 */

/** Each job's projected end (same index as `durations`), started in that order on `slots` lanes. */
export function listScheduleEnds(durations: readonly number[], slots: number): number[] {
  const lanes = new MinHeap(Math.max(1, Math.min(slots, durations.length)));
  return durations.map((d) => lanes.push(lanes.pop() + d));
}

/** The time the last job ends. */
export function listScheduleMakespan(durations: readonly number[], slots: number): number {
  return listScheduleEnds(durations, slots).reduce((a, b) => Math.max(a, b), 0);
}

/** Lane free times; the earliest at the top. A heap, so 10,000 keys at 300 lanes stay cheap to project. */
class MinHeap {
  private a: number[];
  constructor(size: number) {
    this.a = new Array<number>(size).fill(0);
  }
  pop(): number {
    return this.a[0];
  }
  /** Replaces the top (the lane just taken) by its new free time; returns that time. */
  push(t: number): number {
    const a = this.a;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l] < (m === i ? t : a[m])) m = l;
      if (r < a.length && a[r] < (m === i ? t : a[m])) m = r;
      if (m === i) break;
      a[i] = a[m];
      i = m;
    }
    a[i] = t;
    return t;
  }
}
