import type { PlannedScene } from '../plan/index.ts';

/**
 * Submission order: resumes first (already paid, just collect), then the
 * longest expected processing first, so the run's wall time approaches
 * max(longest scene, total ÷ concurrency) (LPT scheduling); ties keep
 * manifest order. Pure.
 */
export function submissionOrder<T extends Pick<PlannedScene, 'action' | 'videoSeconds'>>(jobs: readonly T[]): T[] {
  return jobs
    .map((job, index) => ({ job, index }))
    .sort((a, b) => {
      const resumeA = a.job.action === 'resume' ? 0 : 1;
      const resumeB = b.job.action === 'resume' ? 0 : 1;
      return resumeA - resumeB || b.job.videoSeconds - a.job.videoSeconds || a.index - b.index;
    })
    .map(({ job }) => job);
}
