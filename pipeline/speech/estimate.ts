/**
 * How long a line will be before it is voiced. Pure. The plan shows the
 * estimate; the budget holds the bound, so a line that comes out slower than
 * guessed still fits what was reserved for its scene's video.
 */
import { SPEECH } from '../defaults.ts';
import type { SpeechSpec } from '../types.ts';
import { billedChars } from './prices.ts';

export interface LengthEstimate {
  /** Expected length, ms. */
  ms: number;
  /** The most it is taken to be when reserving money, ms. */
  maxMs: number;
  /** Characters per second used, and whether it was learned from this voice's cached speech. */
  charsPerSecond: number;
  learned: boolean;
}

/**
 * `rates`: characters per second per voice, learned from speech already
 * cached (voice → rate); a voice without any uses the default.
 */
export function estimateLength(spec: SpeechSpec, rates?: ReadonlyMap<string, number>): LengthEstimate {
  const chars = billedChars(spec.text);
  const learnedRate = rates?.get(spec.voice);
  const rate = (learnedRate ?? SPEECH.charsPerSecond) * spec.speed;
  const ms = Math.max(100, Math.round((chars / rate) * 1000));
  // The bound never trusts a learned rate: a slow line of a fast voice must still fit.
  const slowest = SPEECH.slowestCharsPerSecond * Math.min(spec.speed, 1);
  const maxMs = Math.max(ms, Math.round((chars / slowest + SPEECH.padSeconds) * 1000));
  return { ms, maxMs, charsPerSecond: rate, learned: learnedRate !== undefined };
}
