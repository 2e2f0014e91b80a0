import type { PlannedScene } from '../plan/index.ts';
import { listScheduleMakespan } from './list-schedule.ts';

type Orderable = Pick<PlannedScene, 'action' | 'videoSeconds'> & { episodeId?: string };

export interface OrderOptions {
  /** The lanes the order runs on (the run's concurrency): the projection below uses them. @default 4 */
  slots?: number;
  /**
   * How much longer than longest-first's the projected remote makespan may
   * get for episodes to complete one after another. @default 0.02 (MAKESPAN_SLACK)
   */
  makespanSlack?: number;
  /** `false`: longest first across the whole run (LPT, the order before episodes; kept to measure what they buy). @default true */
  byEpisode?: boolean;
}

/**
 * 2%: the end-to-end bench (BENCHMARKS.md "end to end") lost 10–20% of its
 * wall time when every episode completed in the run's last seconds (their
 * stitches queued after the last delivery); episode by episode, its mixed
 * 3–6 s scenes project 1.1% past LPT (91 s of work on a lane against 90).
 * A plan it would cost more (a long scene late in a late episode) gets that
 * scene pulled forward instead.
 */
export const MAKESPAN_SLACK = 0.02;

/**
 * Submission order: cache hits first (they submit nothing, so no submit
 * moves; an episode of hits is finished at the start of the run), then
 * resumes (already paid, just collect), then the scenes to render, episode
 * by episode, so each episode's last clip lands (and it is stitched) while
 * the provider still renders the next ones, not all of them in the run's
 * last seconds as under longest-first across the whole run.
 *
 * Episodes go nearest done first (least video seconds left to render, then
 * manifest order), their scenes longest first. Longest-first across the run
 * (LPT) keeps the wall time near max(longest scene, total ÷ concurrency);
 * episode order can lose that when a long scene comes late, so the order
 * is projected on the run's lanes (list-schedule.ts) and, while it ends
 * more than `makespanSlack` after LPT's projection, the longest scenes are
 * pulled to the front (in LPT order), as few as bring it back within.
 * All of them pulled is LPT itself, so the bound always holds.
 *
 * Only the order moves: the result is a permutation of the same keys, and
 * which scenes may be submitted, their budget pools and every hold are
 * decided elsewhere (the plan admits whole episodes whose worst-case charges
 * fit their caps together; job.ts reserves before each submit). Pure and
 * deterministic: a function of the jobs, their manifest order and `slots`.
 */
export function submissionOrder<T extends Orderable>(jobs: readonly T[], options: OrderOptions = {}): T[] {
  const slots = options.slots ?? 4;
  const slack = options.makespanSlack ?? MAKESPAN_SLACK;
  const left = new Map<string | undefined, number>();
  for (const job of jobs) if (job.action !== 'cached') left.set(job.episodeId, (left.get(job.episodeId) ?? 0) + job.videoSeconds);
  const firstIndex = new Map<string | undefined, number>();
  jobs.forEach((job, index) => firstIndex.has(job.episodeId) || firstIndex.set(job.episodeId, index));

  type Item = { job: T; index: number; lptRank: number };
  const leftOf = (x: Item) => left.get(x.job.episodeId) ?? 0;
  const longestFirst = (a: Item, b: Item) => b.job.videoSeconds - a.job.videoSeconds || leftOf(a) - leftOf(b) || a.index - b.index;
  const nearestDone = (a: Item, b: Item) => leftOf(a) - leftOf(b) || firstIndex.get(a.job.episodeId)! - firstIndex.get(b.job.episodeId)!;

  const items: Item[] = jobs.map((job, index) => ({ job, index, lptRank: 0 }));
  const cached = items.filter((x) => x.job.action === 'cached').sort(longestFirst);
  const resumes = items.filter((x) => x.job.action === 'resume').sort(longestFirst);
  const renders = items.filter((x) => x.job.action === 'render');
  const lpt = [...renders].sort(longestFirst);
  lpt.forEach((x, rank) => (x.lptRank = rank));
  const byEpisode = [...renders].sort((a, b) => nearestDone(a, b) || longestFirst(a, b));

  /** The `k` longest first, then the rest episode by episode. */
  const pulled = (k: number): Item[] => [...lpt.slice(0, k), ...byEpisode.filter((x) => x.lptRank >= k)];
  // A resume holds a lane until its prediction is collected; how long is unknown, so its whole length.
  const makespan = (order: Item[]) => listScheduleMakespan([...resumes, ...order].map((x) => x.job.videoSeconds), slots);
  const bound = makespan(lpt) * (1 + slack);
  const fits = (k: number) => makespan(pulled(k)) <= bound;
  // Few pulled that fit: `hi` always fits (all of them pulled is LPT). A binary search keeps 10,000 keys
  // cheap (~15 projections); the fit need not be monotone in k, so it finds a small k, not always the least.
  let hi = renders.length;
  if (options.byEpisode !== false && fits(0)) hi = 0;
  else if (options.byEpisode !== false) {
    let lo = 0;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(mid)) hi = mid;
      else lo = mid;
    }
  }
  return [...cached, ...resumes, ...pulled(hi)].map((x) => x.job);
}
