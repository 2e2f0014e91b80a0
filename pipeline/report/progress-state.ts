import { BY_ANOTHER_WORKER, RATE_LIMIT_WAIT, UP_TO_DATE, UP_TO_DATE_PREFIX, type RunEvent } from '../events.ts';

export interface EpisodeProgress {
  id: string;
  total: number;
  done: number;
  cached: number;
  inFlight: number;
  queued: number;
  failed: number;
  skipped: number;
  /** Queued scenes whose submit waits for the account's rate limit (not failures). */
  rateLimited: number;
  /** The episode's file, once settled (episodes are written while the rest of the run renders). */
  file?: 'written' | 'up to date' | typeof BY_ANOTHER_WORKER | 'not written';
  /** Where the episode went, when that is a URL (`--out s3://…`). */
  where?: string;
}

export interface ProgressState {
  provider: string;
  startedAt: number;
  concurrency: number;
  episodes: EpisodeProgress[];
  spentUsd: number;
  reservedUsd: number;
  budgetUsd: number | null;
  /** Video seconds still to render (queued + in flight). */
  remainingVideoSeconds: number;
  /** Observed provider seconds per second of video (from finished scenes). */
  processedVideoSeconds: number;
  processingSeconds: number;
  finished: boolean;
}

export function initialProgress(now: number): ProgressState {
  return { provider: '', startedAt: now, concurrency: 1, episodes: [], spentUsd: 0, reservedUsd: 0, budgetUsd: null, remainingVideoSeconds: 0, processedVideoSeconds: 0, processingSeconds: 0, finished: false };
}

/**
 * Folds run events into counts (the live view and tests share it). Mutates
 * its own state: a 5,000-scene run sends tens of thousands of events.
 */
export class ProgressTracker {
  readonly state: ProgressState;
  /** Expected video seconds per queued key. */
  private expected = new Map<string, number>();
  /** Keys whose submit is waiting for the rate limit. */
  private limited = new Set<string>();

  constructor(now: number) {
    this.state = initialProgress(now);
  }

  apply(e: RunEvent): void {
    applyEvent(this.state, this.expected, e);
    trackRateLimit(this.state, this.limited, e);
  }
}

function applyEvent(s: ProgressState, queuedSeconds: Map<string, number>, e: RunEvent): void {
  const ep = 'episode' in e ? s.episodes.find((x) => x.id === e.episode) : undefined;
  switch (e.type) {
    case 'run':
      s.provider = e.provider;
      s.concurrency = e.concurrency;
      s.budgetUsd = e.budgetUsd;
      s.episodes = e.episodes.map((x) => ({ id: x.id, total: x.scenes, done: 0, cached: 0, inFlight: 0, queued: 0, failed: 0, skipped: 0, rateLimited: 0 }));
      break;
    case 'queued':
      if (ep) ep.queued++;
      s.remainingVideoSeconds += e.videoSeconds;
      queuedSeconds.set(e.key, e.videoSeconds);
      break;
    case 'submitted':
    case 'resumed':
      if (ep) {
        ep.queued = Math.max(0, ep.queued - 1);
        ep.inFlight++;
      }
      break;
    case 'done':
      if (ep) {
        ep.inFlight = Math.max(0, ep.inFlight - 1);
        ep.done++;
      }
      s.remainingVideoSeconds = Math.max(0, s.remainingVideoSeconds - (queuedSeconds.get(e.key) ?? e.videoSeconds));
      s.processedVideoSeconds += e.videoSeconds;
      s.processingSeconds += e.processingSeconds;
      break;
    case 'cached':
      if (ep) {
        ep.done++;
        ep.cached++;
        if (queuedSeconds.has(e.key) && ep.queued > 0) {
          ep.queued--;
          s.remainingVideoSeconds = Math.max(0, s.remainingVideoSeconds - (queuedSeconds.get(e.key) ?? 0));
        }
      }
      break;
    case 'failed':
      if (ep) {
        if (ep.inFlight > 0) ep.inFlight--;
        else if (ep.queued > 0) ep.queued--;
        ep.failed++;
      }
      s.remainingVideoSeconds = Math.max(0, s.remainingVideoSeconds - (queuedSeconds.get(e.key) ?? 0));
      break;
    case 'skipped':
      if (ep) {
        if (ep.queued > 0 && e.reason === 'over budget') ep.queued--;
        ep.skipped++;
      }
      break;
    case 'spend':
      s.spentUsd = e.spentUsd;
      s.reservedUsd = e.reservedUsd;
      break;
    case 'episode':
      if (ep) {
        ep.file = e.output === null ? 'not written' : e.reason === UP_TO_DATE || e.reason?.startsWith(`${UP_TO_DATE_PREFIX}:`) ? 'up to date' : e.reason?.startsWith(BY_ANOTHER_WORKER) ? BY_ANOTHER_WORKER : 'written';
        // A bucket's URL is shown (a folder's path is the --out the user gave).
        if (e.output !== null && /^[a-z][a-z0-9+.-]*:\/\//i.test(e.output)) ep.where = e.output;
      }
      break;
    case 'summary':
      s.finished = true;
      break;
  }
}

/** A submit held back by the rate limit is counted apart until it is sent (or ends). */
function trackRateLimit(s: ProgressState, limited: Set<string>, e: RunEvent): void {
  if (!('key' in e) || !('episode' in e)) return;
  const ep = s.episodes.find((x) => x.id === e.episode);
  if (e.type === 'waiting') {
    if (e.reason === RATE_LIMIT_WAIT && !limited.has(e.key)) {
      limited.add(e.key);
      if (ep) ep.rateLimited++;
    }
    return;
  }
  if (limited.delete(e.key) && ep) ep.rateLimited = Math.max(0, ep.rateLimited - 1);
}

/** Seconds left, from the observed processing rate; undefined until a scene has finished. */
export function etaSeconds(s: ProgressState): number | undefined {
  if (s.processedVideoSeconds <= 0 || s.remainingVideoSeconds <= 0) return s.remainingVideoSeconds <= 0 ? 0 : undefined;
  const rate = s.processingSeconds / s.processedVideoSeconds; // provider seconds per video second
  return (s.remainingVideoSeconds * rate) / Math.max(1, s.concurrency);
}
