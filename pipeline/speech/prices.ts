/**
 * MiniMax Speech 02 on WaveSpeed, priced per character, as data (the video
 * prices' twin, pipeline/cost/price-table.ts). Source:
 * https://wavespeed.ai/models/minimax/speech-02-hd and .../speech-02-turbo
 * (read 2026-11-29): $0.05 and $0.03 per 1,000 characters.
 */
import { roundUsd } from '../cost/estimate.ts';

export interface SpeechPriceTable {
  version: string;
  readAt: string;
  /** USD per 1,000 characters, by model. */
  perThousandChars: Record<string, number>;
}

export const SPEECH_PRICES: SpeechPriceTable = {
  version: 'wavespeed-minimax-speech-02/2026-11-29',
  readAt: '2026-11-29',
  perThousandChars: { 'speech-02-hd': 0.05, 'speech-02-turbo': 0.03 },
};

/** The local voice: same shape, always free. */
export const LOCAL_SPEECH_PRICES: SpeechPriceTable = { version: 'local/free', readAt: '2026-11-29', perThousandChars: {} };

/**
 * Characters as billed: counted in code points (an emoji is one). Every
 * character is billed, blanks included, so nothing is trimmed here beyond
 * what the manifest already trimmed.
 */
export function billedChars(text: string): number {
  return [...text].length;
}

/** What voicing `text` with `model` costs (0 for a model the table does not price: the local voice). */
export function speechCostUsd(text: string, model: string, table: SpeechPriceTable): number {
  const per = table.perThousandChars[model] ?? 0;
  return roundUsd((billedChars(text) / 1000) * per);
}
