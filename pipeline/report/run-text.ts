import { RATE_LIMIT_WAIT, type RunEvent } from '../events.ts';

/**
 * One plain line per event, or undefined for one too chatty to print. Every
 * mode of terminal.ts prints these: all of them in `plain` and `verbose`
 * (non-TTY, CI), a chosen few above the live block or in `quiet`.
 */
export function eventLine(e: RunEvent): string | undefined {
  const at = 'episode' in e && 'scene' in e ? `${e.episode}/${e.scene}` : '';
  switch (e.type) {
    case 'run':
      return `${e.scenes} scenes: ${e.toRender} to render, ${e.cached} cached, ${e.resume} to resume, ${e.skipped} skipped; planned $${e.plannedUsd.toFixed(2)}${e.budgetUsd !== null ? ` of $${e.budgetUsd.toFixed(2)} budget` : ''}`;
    case 'submitted':
      return `submitted ${at} (prediction ${e.predictionId})`;
    case 'resumed':
      return `resuming ${at} (prediction ${e.predictionId})`;
    case 'waiting':
      return e.reason === RATE_LIMIT_WAIT ? `${at}: waiting for the rate limit (not a failure; it is submitted when the account allows)` : `waiting ${at}: ${e.reason}`;
    case 'done':
      return `done ${at}: ${e.videoSeconds.toFixed(2)} s, $${e.costUsd.toFixed(2)}`;
    case 'cached':
      return `cached ${at}`;
    case 'failed':
      return `FAILED ${at}: ${e.error}`;
    case 'skipped':
      return `skipped ${at}: ${e.reason}`;
    case 'speech':
      // A cached line is not news; a voiced, skipped or held one is (held: it may have been billed).
      if (e.status === 'cached') return undefined;
      return `${e.status === 'voiced' ? 'voiced' : e.status === 'held' ? 'HELD' : e.status === 'failed' ? 'FAILED voicing' : e.status} ${at} line ${e.line}${e.status === 'voiced' ? `: $${e.costUsd.toFixed(4)}` : ''}${e.error ? `: ${e.error}` : ''}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'retry':
      return `retry ${e.label} in ${e.delayMs} ms (${e.reason})`;
    case 'episode':
      return `episode ${e.episode}: ${e.status}${e.output ? ` → ${e.output}` : ''}${e.reason ? ` (${e.reason})` : ''}`;
    case 'summary':
      return `${e.interrupted ? 'interrupted: ' : ''}${e.rendered} rendered, ${e.cached} cached, ${e.failed} failed, ${e.skipped} skipped; spent $${e.cost_usd.toFixed(2)}`;
    default:
      return undefined; // queued, progress, spend: too chatty for plain lines (`verbose` words them itself)
  }
}
