import { sha256Text } from '../media/hash.ts';
import type { SpeechSpec } from '../types.ts';

/** Bump to invalidate every cached speech. Its own version: a video key change does not re-voice lines. */
export const SPEECH_KEY_VERSION = 1;

/** What a speech's key is made of: the voice's provider and model, and everything sent. */
export interface SpeechKeyInput {
  stage: 'speech';
  provider: string;
  /** The model that makes the audio: `speech-02-hd`, or the local voice's (`espeak-ng`, `placeholder-tone`). */
  model: string;
  voice: string;
  text: string;
  speed: number;
  volume: number;
  pitch: number;
  emotion: string | null;
  /** The render store's seed column (a speech claim is a render claim); speech has none. */
  seed: 0;
}

export function speechKeyInput(provider: string, model: string, spec: SpeechSpec): SpeechKeyInput {
  return { stage: 'speech', provider, model, voice: spec.voice, text: spec.text, speed: spec.speed, volume: spec.volume, pitch: spec.pitch, emotion: spec.emotion ?? null, seed: 0 };
}

/**
 * sha256 of a canonical JSON (fixed order) of the speech's inputs, prefixed
 * apart from video keys (`speech-`), so the two never collide in the store
 * that holds both and `status` can tell them apart.
 */
export function speechKey(input: SpeechKeyInput): string {
  return `speech-${sha256Text(JSON.stringify([SPEECH_KEY_VERSION, input.provider, input.model, input.voice, input.text, input.speed, input.volume, input.pitch, input.emotion]))}`;
}
