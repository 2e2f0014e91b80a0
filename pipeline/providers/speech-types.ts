import type { SpeechSpec } from '../types.ts';
import type { CallOptions, PollResult, SubmitOptions } from './types.ts';
import type { SpeechPriceTable } from '../speech/prices.ts';

/** One line to voice. */
export interface SpeechTask {
  key: string;
  episodeId: string;
  sceneId: string;
  /** 1-based line number in the scene (sides count as lines 1 and 2 of a pair scene). */
  line: number;
  spec: SpeechSpec;
  /** The model the key was made with (the provider's own for the local voice). */
  model: string;
  /** Planned length, for timeouts. */
  estimateSeconds: number;
}

/** A voiced line, delivered into the speech store. */
export interface DeliveredSpeech {
  path: string;
  bytes: number;
  sha256: string;
  durationSeconds: number;
}

/**
 * A text-to-speech provider, shaped like the video Provider: submit and wait
 * apart, so a later run resumes a prediction an earlier one recorded.
 */
export interface SpeechProvider {
  readonly id: string;
  readonly label: string;
  readonly prices: SpeechPriceTable;
  /** Costs money: every submit is held against the budget first. */
  readonly billed: boolean;
  /** A prediction outlives its process (a later run polls the recorded id). */
  readonly resumable: boolean;
  /** The model a spec is voiced with (the key's model). */
  modelFor(spec: SpeechSpec): string;
  submit(task: SpeechTask, options?: SubmitOptions): Promise<{ predictionId: string }>;
  wait(predictionId: string, task: SpeechTask, options?: CallOptions): Promise<PollResult>;
  /** Fetches the audio to a temp file beside `dest`, checks it decodes, renames it to `dest`. */
  download(result: PollResult, task: SpeechTask, dest: string, options?: CallOptions): Promise<DeliveredSpeech>;
  /** What voicing `task` costs today, USD, as the provider quotes it (asked before any spend; none: not asked). */
  quote?(task: SpeechTask, options?: CallOptions): Promise<number>;
  close?(): Promise<void>;
}
