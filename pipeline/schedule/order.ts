import type { PlannedScene } from '../plan/index.ts';

/**
 * Submission order: cache hits first (they submit nothing, so no submit
 * moves; an episode of hits is finished at the start of the run), then
 * resumes (already paid, just collect), then the longest expected processing
 * first, so the run's wall time approaches max(longest scene, total ÷
 * concurrency) (LPT scheduling). Ties go to the scene whose episode has the
 * least left to render, so episodes complete (and are stitched) sooner, then
 * manifest order. Pure.
 */
export function submissionOrder<T extends Pick<PlannedScene, 'action' | 'videoSeconds'> & { episodeId?: string }>(jobs: readonly T[]): T[] {
  const left = new Map<string | undefined, number>();
  for (const job of jobs) if (job.action !== 'cached') left.set(job.episodeId, (left.get(job.episodeId) ?? 0) + job.videoSeconds);
  const rank = (job: T) => (job.action === 'cached' ? 0 : job.action === 'resume' ? 1 : 2);
  return jobs
    .map((job, index) => ({ job, index }))
    .sort(
      (a, b) =>
        rank(a.job) - rank(b.job) ||
        b.job.videoSeconds - a.job.videoSeconds ||
        (left.get(a.job.episodeId) ?? 0) - (left.get(b.job.episodeId) ?? 0) ||
        a.index - b.index,
    )
    .map(({ job }) => job);
}
