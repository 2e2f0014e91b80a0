import { LOCAL_SPEECH_PRICES, SPEECH_PRICES } from '../speech/prices.ts';
import type { SpeechProvider } from './speech-types.ts';
import { findOnPath } from './local/speech.ts';

/** What planning needs of a speech provider, without making one (no agent, no child). */
export type SpeechInfo = Pick<SpeechProvider, 'id' | 'label' | 'modelFor' | 'prices' | 'billed' | 'resumable'>;

/**
 * The voice that goes with a video provider: WaveSpeed renders are voiced by
 * MiniMax on WaveSpeed, local previews by the local voice (espeak-ng when on
 * PATH, else the placeholder tone; each its own model, so its own keys).
 */
export function speechInfoFor(providerId: string, pathEnv = process.env.PATH): SpeechInfo {
  if (providerId === 'wavespeed') {
    return { id: 'wavespeed', label: 'WaveSpeed MiniMax Speech 02', modelFor: (spec) => spec.model, prices: SPEECH_PRICES, billed: true, resumable: true };
  }
  const espeak = findOnPath('espeak-ng', pathEnv);
  const model = espeak ? 'espeak-ng' : 'placeholder-tone';
  return { id: 'local', label: espeak ? 'local voice (espeak-ng)' : 'local placeholder tone (espeak-ng not installed)', modelFor: () => model, prices: LOCAL_SPEECH_PRICES, billed: false, resumable: false };
}
