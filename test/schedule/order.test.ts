import { describe, expect, it } from 'vitest';
import { listScheduleEnds } from '../../pipeline/schedule/list-schedule.ts';
import { submissionOrder } from '../../pipeline/schedule/order.ts';
import { mulberry32 } from '../fakes/wavespeed-server.ts';

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

type Job = { id: string; episodeId: string; action: 'render' | 'cached' | 'resume'; videoSeconds: number };

/** `episodes` × `scenes` scenes to render, in manifest order. */
function series(episodes: number, scenes: number, lengthOf: (e: number, s: number) => number): Job[] {
  return Array.from({ length: episodes * scenes }, (_, i) => {
    const e = Math.floor(i / scenes);
    return { id: `ep${e + 1}/s${(i % scenes) + 1}`, episodeId: `ep${e + 1}`, action: 'render' as const, videoSeconds: lengthOf(e, i % scenes) };
  });
}

/** Under the scheduler's lanes (list scheduling, projected), when each episode's last scene ends; and when the last one does. */
function run(order: Job[], slots: number): { episodes: Map<string, number>; makespan: number } {
  const ends = listScheduleEnds(order.map((j) => j.videoSeconds), slots);
  const episodes = new Map<string, number>();
  order.forEach((j, i) => episodes.set(j.episodeId, Math.max(episodes.get(j.episodeId) ?? 0, ends[i])));
  return { episodes, makespan: Math.max(...ends) };
}

const lpt = (jobs: Job[]) => [...jobs].sort((a, b) => b.videoSeconds - a.videoSeconds);
const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const LENGTHS = [3, 4, 5, 6];

describe('submission order: episodes complete one after another', () => {
  it('mixed lengths (the end-to-end bench): episodes complete across the run, not all at its end, for ≤ 2% of makespan', () => {
    const jobs = series(8, 10, (e, s) => LENGTHS[(e * 3 + s) % 4]);
    const ours = run(submissionOrder(jobs, { slots: 4 }), 4);
    const theirs = run(lpt(jobs), 4);
    // Under longest-first every episode keeps a 3 s scene to the last quarter of the run.
    expect(Math.min(...theirs.episodes.values())).toBeGreaterThan(0.7 * theirs.makespan);
    expect(Math.min(...ours.episodes.values())).toBeLessThan(0.2 * ours.makespan);
    expect(sum(ours.episodes.values())).toBeLessThan(0.7 * sum(theirs.episodes.values()));
    // One after another: the k-th episode done by about k/8 of the run.
    const sorted = [...ours.episodes.values()].sort((a, b) => a - b);
    sorted.forEach((t, k) => expect(t).toBeLessThanOrEqual(((k + 1) / 8) * ours.makespan + 6));
    expect(ours.makespan).toBeLessThanOrEqual(theirs.makespan * 1.02);
  });

  it('equal lengths: episode by episode in manifest order, as before', () => {
    const jobs = series(3, 4, () => 4);
    expect(submissionOrder(jobs, { slots: 4 }).map((j) => j.id)).toEqual(jobs.map((j) => j.id));
  });

  it('the episode nearest done goes first (fewest seconds left), its scenes longest first', () => {
    const jobs: Job[] = [
      { id: 'a1', episodeId: 'a', action: 'render', videoSeconds: 5 },
      { id: 'a2', episodeId: 'a', action: 'render', videoSeconds: 6 },
      { id: 'b1', episodeId: 'b', action: 'render', videoSeconds: 3 },
      { id: 'b2', episodeId: 'b', action: 'render', videoSeconds: 4 },
      { id: 'b-hit', episodeId: 'b', action: 'cached', videoSeconds: 60 },
    ];
    // No slack at all and one lane: any order has the same makespan, so the episodes' order shows plainly.
    expect(submissionOrder(jobs, { slots: 1, makespanSlack: 0 }).map((j) => j.id)).toEqual(['b-hit', 'b2', 'b1', 'a2', 'a1']);
  });

  it('a long scene late in a late episode is pulled to the front: the makespan stays within the slack', () => {
    const jobs = [...series(4, 6, () => 5), { id: 'ep5/long', episodeId: 'ep5', action: 'render' as const, videoSeconds: 40 }];
    const order = submissionOrder(jobs, { slots: 4 });
    expect(order[0].id).toBe('ep5/long');
    expect(order.slice(1).map((j) => j.id)).toEqual(jobs.slice(0, -1).map((j) => j.id));
    expect(run(order, 4).makespan).toBeLessThanOrEqual(run(lpt(jobs), 4).makespan * 1.02);
    // Episode order alone would have started it last: 30 s of 5 s scenes first, on 4 lanes.
    expect(run([...jobs], 4).makespan).toBeGreaterThan(run(lpt(jobs), 4).makespan * 1.5);
  });

  it('any plan: the projected makespan is within the slack of longest-first, and episodes complete sooner in sum (fixed seeds)', () => {
    let ours = 0;
    let theirs = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rng = mulberry32(seed);
      const episodes = 1 + Math.floor(rng() * 12);
      const slots = 1 + Math.floor(rng() * 10);
      const jobs = series(episodes, 1 + Math.floor(rng() * 15), () => Math.round((3 + rng() ** 3 * 120) * 10) / 10);
      if (rng() < 0.3) jobs[Math.floor(rng() * jobs.length)].action = 'resume';
      const order = submissionOrder(jobs, { slots });
      expect(new Set(order)).toEqual(new Set(jobs));
      expect(submissionOrder(jobs, { slots })).toEqual(order); // deterministic
      const resumes = jobs.filter((j) => j.action === 'resume');
      const reference = [...resumes, ...lpt(jobs.filter((j) => j.action === 'render'))];
      const a = run(order, slots);
      const b = run(reference, slots);
      expect(a.makespan).toBeLessThanOrEqual(b.makespan * 1.02 + 1e-9);
      ours += sum(a.episodes.values());
      theirs += sum(b.episodes.values());
    }
    expect(ours).toBeLessThan(0.85 * theirs);
  });
});
