/**
 * Leading and trailing silence of an audio file, as ffmpeg's `silencedetect`
 * hears it (thresholds in defaults.ts SILENCE). Argument list and parsing are
 * pure; `detectEdgeSilence` runs ffmpeg through the one module that may.
 */
import { SILENCE } from '../defaults.ts';
import { literalInput, runFfmpeg, type FfmpegPaths } from './ffmpeg.ts';

/** Silence at a file's start and end, whole milliseconds. An all-silent file: leading = its length, trailing = 0. */
export interface EdgeSilence {
  leadingMs: number;
  trailingMs: number;
}

export interface SilenceThresholds {
  noiseDb: number;
  minSeconds: number;
}

export const DEFAULT_THRESHOLDS: SilenceThresholds = { noiseDb: SILENCE.noiseDb, minSeconds: SILENCE.minSeconds };

/** What memoised results are filed under: a change of thresholds measures again. */
export function thresholdsId(t: SilenceThresholds): string {
  return `silencedetect:n=${t.noiseDb}dB:d=${t.minSeconds}`;
}

export function silenceDetectArgs(file: string, t: SilenceThresholds = DEFAULT_THRESHOLDS): string[] {
  // -nostats keeps stderr to the filter's lines (the progress line would repeat per chunk).
  return ['-nostats', '-i', literalInput(file), '-map', '0:a:0', '-af', `silencedetect=n=${t.noiseDb}dB:d=${t.minSeconds}`, '-f', 'null', '-'];
}

/**
 * Edge silence from silencedetect's log. Only a silence that starts at 0 is
 * leading, only one that reaches the end (or has no end: older ffmpeg builds
 * do not close a silence at end of stream) is trailing. Times are rounded to
 * whole milliseconds; `durationMs` is the file's probed length.
 */
export function parseEdgeSilence(stderr: string, durationMs: number): EdgeSilence {
  const spans: { start: number; end?: number }[] = [];
  for (const m of stderr.matchAll(/silence_(start|end):\s*(-?[\d.]+(?:e-?\d+)?)/g)) {
    const ms = Math.round(Number(m[2]) * 1000);
    if (m[1] === 'start') spans.push({ start: Math.max(0, ms) });
    else if (spans.length > 0 && spans[spans.length - 1].end === undefined) spans[spans.length - 1].end = ms;
  }
  if (spans.length === 0) return { leadingMs: 0, trailingMs: 0 };
  // A silence that ends within a millisecond of the probed end reaches it (rounding of the two clocks).
  const reachesEnd = (s: { end?: number }) => s.end === undefined || s.end >= durationMs - 1;
  const first = spans[0];
  if (first.start === 0 && reachesEnd(first)) return { leadingMs: durationMs, trailingMs: 0 };
  const leadingMs = first.start === 0 ? Math.min(first.end!, durationMs) : 0;
  const last = spans[spans.length - 1];
  const trailingMs = reachesEnd(last) ? Math.max(0, durationMs - last.start) : 0;
  return { leadingMs, trailingMs };
}

/** Runs silencedetect over the whole file (a decode, no output written). */
export async function detectEdgeSilence(
  file: string,
  durationMs: number,
  paths: FfmpegPaths,
  options: { signal?: AbortSignal; thresholds?: SilenceThresholds } = {},
): Promise<EdgeSilence> {
  const { stderr } = await runFfmpeg(silenceDetectArgs(file, options.thresholds), paths, { signal: options.signal, label: `silencedetect of ${file}`, mediaSeconds: durationMs / 1000 });
  return parseEdgeSilence(stderr, durationMs);
}
