import { describe, expect, it } from 'vitest';
import { BY_ANOTHER_WORKER, RATE_LIMIT_WAIT, UP_TO_DATE, UP_TO_DATE_PREFIX, type RunEvent } from '../../pipeline/events.ts';
import { ProgressTracker, etaSeconds } from '../../pipeline/report/progress-state.ts';
import { progressLines } from '../../pipeline/report/progress-view.ts';
import { createTerminalView } from '../../pipeline/report/terminal.ts';
import { Capture } from '../helpers/cli.ts';

const EVENTS: RunEvent[] = [
  { type: 'run', provider: 'wavespeed', scenes: 5, toRender: 4, cached: 1, resume: 0, skipped: 0, budgetUsd: 10, plannedUsd: 1.2, concurrency: 2, episodes: [{ id: 's01e01', scenes: 3 }, { id: 's01e02', scenes: 2 }] },
  { type: 'queued', episode: 's01e01', scene: 'a', key: 'ka', estimateUsd: 0.3, videoSeconds: 10 },
  { type: 'queued', episode: 's01e01', scene: 'b', key: 'kb', estimateUsd: 0.3, videoSeconds: 10 },
  { type: 'queued', episode: 's01e02', scene: 'c', key: 'kc', estimateUsd: 0.3, videoSeconds: 10 },
  { type: 'queued', episode: 's01e02', scene: 'd', key: 'kd', estimateUsd: 0.3, videoSeconds: 10 },
  { type: 'cached', episode: 's01e01', scene: 'e', key: 'ke' },
  { type: 'spend', reservedUsd: 0.6, spentUsd: 0, budgetUsd: 10 },
  { type: 'submitted', episode: 's01e01', scene: 'a', key: 'ka', predictionId: 'p1' },
  { type: 'submitted', episode: 's01e02', scene: 'c', key: 'kc', predictionId: 'p2' },
  { type: 'done', episode: 's01e01', scene: 'a', key: 'ka', clip: '/c/a.mp4', videoSeconds: 10, costUsd: 0.3, processingSeconds: 200 },
  { type: 'spend', reservedUsd: 0.3, spentUsd: 0.3, budgetUsd: 10 },
  { type: 'failed', episode: 's01e02', scene: 'c', key: 'kc', error: 'prediction p2 failed: no face', code: 'E_API' },
];

describe('terminal view', () => {
  it('counts, money and an ETA from the observed processing rate', () => {
    const tracker = new ProgressTracker(0);
    for (const e of EVENTS) tracker.apply(e);
    const s = tracker.state;
    expect(s.episodes).toEqual([
      { id: 's01e01', total: 3, done: 2, cached: 1, inFlight: 0, queued: 1, failed: 0, skipped: 0, rateLimited: 0 },
      { id: 's01e02', total: 2, done: 0, cached: 0, inFlight: 0, queued: 1, failed: 1, skipped: 0, rateLimited: 0 },
    ]);
    // 20 s of video left, 20 s of processing per video second, 2 at a time → 200 s.
    expect(etaSeconds(s)).toBe(200);
    expect(progressLines(s, { width: 120, color: false })).toMatchInlineSnapshot(`
      [
        "duologue · wavespeed · 2/5 scenes · $0.30 spent + $0.30 reserved of $10.00 · ETA 3m 20s",
        "s01e01 ████████████████████░░░░░░░░░░     2/3  cached 1 · in flight 0 · queued 1 · failed 0 · skipped 0",
        "s01e02 ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░     0/2  cached 0 · in flight 0 · queued 1 · failed 1 · skipped 0",
      ]
    `);
  });

  it('a submit waiting for the rate limit is shown as waiting, never as failed, until it is sent', () => {
    const tracker = new ProgressTracker(0);
    const wait = (scene: string, key: string): RunEvent => ({ type: 'waiting', episode: 's01e01', scene, key, reason: RATE_LIMIT_WAIT });
    for (const e of [...EVENTS.slice(0, 3), wait('a', 'ka'), wait('b', 'kb'), wait('a', 'ka')]) tracker.apply(e);
    expect(tracker.state.episodes[0]).toMatchObject({ queued: 2, rateLimited: 2, failed: 0 });
    expect(progressLines(tracker.state, { width: 140, color: false })[1]).toContain('queued 2 · waiting for the rate limit 2 · failed 0');
    tracker.apply({ type: 'submitted', episode: 's01e01', scene: 'a', key: 'ka', predictionId: 'p1' });
    expect(tracker.state.episodes[0]).toMatchObject({ inFlight: 1, rateLimited: 1, failed: 0 });
    const out = new Capture();
    const view = createTerminalView({ stream: out, mode: 'plain', color: false });
    view.onEvent(wait('b', 'kb'));
    expect(out.text).toBe('s01e01/b: waiting for the rate limit (not a failure; it is submitted when the account allows)\n');
  });

  it('an episode written while the rest renders shows on its bar (written, up to date, not written)', () => {
    const tracker = new ProgressTracker(0);
    for (const e of EVENTS.slice(0, 1)) tracker.apply(e);
    tracker.apply({ type: 'episode', episode: 's01e01', status: 'complete', output: '/out/s01e01.mp4' });
    const lines = () => progressLines(tracker.state, { width: 160, color: false });
    expect(lines()[1]).toMatch(/skipped 0 · written$/);
    expect(lines()[2]).toMatch(/skipped 0$/);
    tracker.apply({ type: 'episode', episode: 's01e02', status: 'complete', output: '/out/s01e02.mp4', reason: UP_TO_DATE });
    expect(lines()[2]).toMatch(/· up to date$/);
    tracker.apply({ type: 'episode', episode: 's01e02', status: 'incomplete', output: null, reason: 'not written: disk full' });
    expect(lines()[2]).toMatch(/· not written$/);
  });

  it('an episode in a bucket shows where it went; one another worker wrote, or took over, says so', () => {
    const tracker = new ProgressTracker(0);
    for (const e of EVENTS.slice(0, 1)) tracker.apply(e);
    const lines = () => progressLines(tracker.state, { width: 160, color: false });
    tracker.apply({ type: 'episode', episode: 's01e01', status: 'complete', output: 's3://studio/nightly/s01e01.mp4' });
    expect(lines()[1]).toMatch(/skipped 0 · written → s3:\/\/studio\/nightly\/s01e01\.mp4$/);
    tracker.apply({ type: 'episode', episode: 's01e02', status: 'complete', output: 's3://studio/nightly/s01e02.mp4', reason: `${UP_TO_DATE_PREFIX}: written on host-b at 2026-11-29T02:10:00.000Z` });
    expect(lines()[2]).toMatch(/· up to date → s3:\/\/studio\/nightly\/s01e02\.mp4$/);
    tracker.apply({ type: 'episode', episode: 's01e02', status: 'complete', output: 's3://studio/nightly/s01e02.mp4', reason: `${BY_ANOTHER_WORKER}: it took the episode over` });
    expect(lines()[2]).toMatch(/· written by another worker → s3:\/\/studio\/nightly\/s01e02\.mp4$/);
  });

  it('on a TTY: redraws the bars in place and keeps failures above them', () => {
    const out = Object.assign(new Capture(), { columns: 120 });
    const view = createTerminalView({ stream: out, mode: 'live', color: true, intervalMs: 1_000_000 });
    for (const e of EVENTS) view.onEvent(e);
    view.close();
    expect(out.text).toContain('FAILED s01e02/c: prediction p2 failed: no face\n');
    expect(out.text).toContain('\x1b[32m'); // coloured bars
    expect(out.text).toMatch(/\x1b\[2Ks01e01 /);
  });

  it('off a TTY (or in CI): plain lines with no control characters; NO_COLOR-safe', () => {
    for (const mode of ['plain', 'quiet', 'verbose'] as const) {
      const out = new Capture();
      const view = createTerminalView({ stream: out, mode, color: false });
      for (const e of EVENTS) view.onEvent(e);
      view.close();
      expect(out.text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      expect(out.text).toContain('FAILED s01e02/c');
      if (mode === 'quiet') expect(out.text.trim().split('\n')).toHaveLength(1);
      if (mode === 'verbose') expect(out.text).toContain('queued s01e01/a: 10.00 s, est. $0.30');
    }
  });
});
