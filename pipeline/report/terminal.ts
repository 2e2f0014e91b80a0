import type { Writable } from 'node:stream';
import type { RunEvent } from '../events.ts';
import { ProgressTracker } from './progress-state.ts';
import { progressLines } from './progress-view.ts';
import { eventLine } from './run-text.ts';

export type OutputMode = 'live' | 'plain' | 'quiet' | 'verbose';

export interface TerminalOptions {
  stream: Writable & { columns?: number };
  mode: OutputMode;
  color: boolean;
  now?: () => number;
  /** Redraw at most this often. @default 100 */
  intervalMs?: number;
}

/** Lines worth keeping in the scrollback above the live block. */
const KEEP = new Set<RunEvent['type']>(['failed', 'warning', 'episode', 'summary']);

/**
 * A listener for run events. `live`: a redrawn block of bars (TTY only), with
 * failures and episode results printed above it. `plain`: one line per event,
 * no control characters. `quiet`: failures and the summary. `verbose`: every
 * event, including retries.
 */
export function createTerminalView(options: TerminalOptions): { onEvent: (e: RunEvent) => void; close: () => void } {
  const { stream, mode } = options;
  const now = options.now ?? Date.now;
  const tracker = new ProgressTracker(now());
  let drawn = 0;
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;

  const draw = () => {
    dirty = false;
    const lines = progressLines(tracker.state, { width: stream.columns ?? 100, color: options.color });
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const line of lines) out += `\x1b[2K${line}\n`;
    stream.write(out);
    drawn = lines.length;
  };
  const above = (text: string) => {
    // Erase the block, print the line, let the next draw put the block back below it.
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
    stream.write(`${text}\n`);
    dirty = true;
  };

  if (mode === 'live') {
    timer = setInterval(() => dirty && draw(), options.intervalMs ?? 100);
    timer.unref();
  }

  return {
    onEvent(e) {
      tracker.apply(e);
      const line = eventLine(e);
      if (mode === 'live') {
        if (line && KEEP.has(e.type)) above(line);
        else dirty = true;
        if (e.type === 'summary') draw();
        return;
      }
      if (mode === 'quiet') {
        if (line && (e.type === 'failed' || e.type === 'warning' || e.type === 'summary')) stream.write(`${line}\n`);
        return;
      }
      const text = line ?? (mode === 'verbose' ? verboseLine(e) : undefined);
      if (text) stream.write(`${text}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      if (mode === 'live' && dirty) draw();
    },
  };
}

function verboseLine(e: RunEvent): string | undefined {
  if (e.type === 'queued') return `queued ${e.episode}/${e.scene}: ${e.videoSeconds.toFixed(2)} s, est. $${e.estimateUsd.toFixed(2)}`;
  if (e.type === 'spend') return `money: $${e.spentUsd.toFixed(2)} spent, $${e.reservedUsd.toFixed(2)} reserved${e.budgetUsd !== null ? ` of $${e.budgetUsd.toFixed(2)}` : ''}`;
  if (e.type === 'progress') return `${e.episode}/${e.scene}: ${e.status}`;
  return undefined;
}
