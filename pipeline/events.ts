import { EventEmitter } from 'node:events';

/** Everything a run reports, as typed events; the terminal view and the NDJSON log both listen. */
export type RunEvent =
  | {
      type: 'run';
      provider: string;
      scenes: number;
      toRender: number;
      cached: number;
      resume: number;
      skipped: number;
      budgetUsd: number | null;
      plannedUsd: number;
      concurrency: number;
      episodes: { id: string; scenes: number }[];
    }
  | { type: 'queued'; episode: string; scene: string; key: string; estimateUsd: number; videoSeconds: number }
  | { type: 'cached'; episode: string; scene: string; key: string }
  | { type: 'skipped'; episode: string; scene: string; reason: string }
  | { type: 'submitted'; episode: string; scene: string; key: string; predictionId: string }
  | { type: 'resumed'; episode: string; scene: string; key: string; predictionId: string }
  | { type: 'waiting'; episode: string; scene: string; key: string; reason: string }
  | { type: 'progress'; episode: string; scene: string; status: string }
  | { type: 'done'; episode: string; scene: string; key: string; clip: string; videoSeconds: number; costUsd: number; processingSeconds: number }
  | { type: 'failed'; episode: string; scene: string; key: string; error: string; code: string }
  | { type: 'spend'; reservedUsd: number; spentUsd: number; budgetUsd: number | null }
  | { type: 'retry'; label: string; attempt: number; delayMs: number; reason: string }
  | { type: 'warning'; message: string }
  /** A line written as text: voiced, found cached, or not voiced (failed, skipped over budget, held, interrupted). */
  | { type: 'speech'; episode: string; scene: string; line: number; key: string; status: 'voiced' | 'cached' | 'failed' | 'skipped' | 'held' | 'interrupted'; costUsd: number; error?: string }
  | { type: 'episode'; episode: string; status: 'complete' | 'incomplete'; output: string | null; reason?: string }
  | {
      type: 'summary';
      rendered: number;
      cached: number;
      failed: number;
      skipped: number;
      cost_usd: number;
      interrupted: boolean;
      /** `error` is present when the episode's file could not be written (its scenes may all be done). */
      episodes: { id: string; status: 'complete' | 'incomplete'; output: string | null; error?: string }[];
    };

/** The `episode` reason of an episode whose inputs did not change (its file was left as it was). */
export const UP_TO_DATE = 'up to date, not rewritten';
/** How the reason starts of an episode found written (by another worker, or an earlier run: who and when follow). */
export const UP_TO_DATE_PREFIX = 'up to date';
/** How the reason starts of an episode another worker of the run took over from this one (that worker writes it). */
export const BY_ANOTHER_WORKER = 'written by another worker';

/** The `waiting` reason of a submit held back by the account's rate limit (not a failure). */
export const RATE_LIMIT_WAIT = 'waiting for the rate limit';

export class RunEvents extends EventEmitter<{ event: [RunEvent] }> {
  emitEvent(event: RunEvent): void {
    this.emit('event', event);
  }
}
