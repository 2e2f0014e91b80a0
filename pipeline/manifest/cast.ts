/**
 * Voices for lines written as text: the cast (top level < episode, per side
 * and per field) and a line's own overrides, resolved into the SpeechSpec
 * its cache key is made of. Pure.
 */
import { SPEECH } from '../defaults.ts';
import { SYSTEM_VOICES } from '../speech/voices.ts';
import type { Side, SpeechSpec } from '../types.ts';

/** Shapes guaranteed by the schema. */
export interface RawVoice {
  voice?: string;
  speed?: number;
  volume?: number;
  pitch?: number;
  emotion?: string;
  speech_model?: string;
}
export type RawCast = Partial<Record<Side, RawVoice>>;
export interface RawSay {
  say: string;
  emotion?: string;
  voice?: string;
}

/** The episode's cast over the top level's, field by field. */
export function mergeCast(top: RawCast | undefined, episode: RawCast | undefined): RawCast {
  return { left: { ...top?.left, ...episode?.left }, right: { ...top?.right, ...episode?.right } };
}

/** The line's spec, or why it has none (no voice anywhere, nothing but blanks to say). */
export function speechSpec(say: RawSay, side: Side, cast: RawCast): { ok: true; spec: SpeechSpec } | { ok: false; message: string } {
  const text = say.say.trim();
  if (text.length === 0) return { ok: false, message: `the ${side} line says nothing (only blanks)` };
  const v = cast[side] ?? {};
  const voice = say.voice ?? v.voice;
  if (voice === undefined) return { ok: false, message: `no voice for the ${side} side: set \`cast: { ${side}: { voice: ... } }\` (top level or episode), or \`voice:\` on the line` };
  const typo = systemVoiceTypo(voice);
  if (typo) return { ok: false, message: `voice "${voice}" is not a voice: did you mean the system voice ${typo}? (voice ids are case-sensitive; the API refuses it only after other lines are paid for)` };
  const emotion = say.emotion ?? v.emotion;
  return {
    ok: true,
    spec: {
      // Outer blanks do not change what is said: trimmed, so re-indenting a line keeps its cached speech.
      text,
      voice,
      model: v.speech_model ?? SPEECH.model,
      speed: v.speed ?? SPEECH.speed,
      volume: v.volume ?? SPEECH.volume,
      pitch: v.pitch ?? SPEECH.pitch,
      ...(emotion === undefined ? {} : { emotion }),
    },
  };
}

/**
 * A system voice written in another case or spacing (`wise_woman`, `WiseWoman`):
 * shaped like a cloned voice id, so the schema takes it, but no account has
 * a cloned voice named after a system one. Returns the system voice meant.
 */
export function systemVoiceTypo(voice: string): string | undefined {
  const fold = (v: string) => v.toLowerCase().replace(/[_\s-]/g, '');
  return (SYSTEM_VOICES as readonly string[]).includes(voice) ? undefined : SYSTEM_VOICES.find((s) => fold(s) === fold(voice));
}
