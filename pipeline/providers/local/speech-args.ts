/**
 * Argument lists of the local voice, pure (unit-tested without the programs).
 * espeak-ng is run as a separate program when the machine has it (Debian's
 * package; GPL, so it is never linked into or shipped with duologue).
 */
import { soundsFemale } from '../../speech/voices.ts';
import type { SpeechSpec } from '../../types.ts';

/** espeak-ng reading the text from stdin into a wav. */
export function espeakArgs(spec: SpeechSpec, out: string): string[] {
  // A system voice's name says woman or man: the nearest espeak variant, so the two sides sound apart.
  const variant = soundsFemale(spec.voice) ? 'f3' : 'm3';
  const wpm = Math.round(175 * spec.speed); // espeak's default rate is 175 words a minute
  const pitch = Math.max(0, Math.min(99, 50 + spec.pitch * 4)); // 0..99, 50 normal; a semitone is ~4 steps
  const amplitude = Math.max(0, Math.min(200, Math.round(100 * spec.volume))); // 100 normal
  return ['-v', `en-us+${variant}`, '-s', String(wpm), '-p', String(pitch), '-a', String(amplitude), '-w', out, '--stdin'];
}

/**
 * ffmpeg: a soft tone pulsed at syllable rate (4 a second) for `ms`, the
 * placeholder when no voice program is installed: clearly not speech in a
 * preview, the length the line will roughly have, and the same bytes every
 * time (bitexact).
 */
export function placeholderArgs(ms: number, female: boolean, out: string): string[] {
  const seconds = (ms / 1000).toFixed(3);
  const freq = female ? 330 : 196;
  return [
    '-f', 'lavfi',
    '-i', `sine=frequency=${freq}:sample_rate=22050:duration=${seconds}`,
    '-af', "volume='0.15+0.25*gt(sin(2*PI*4*t),0)':eval=frame",
    '-ac', '1',
    '-fflags', '+bitexact',
    '-flags:a', '+bitexact',
    '-c:a', 'pcm_s16le',
    out,
  ];
}
