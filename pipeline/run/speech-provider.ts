import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import { createLocalSpeech } from '../providers/local/speech.ts';
import type { SpeechProvider } from '../providers/speech-types.ts';
import type { HttpDeps } from '../providers/wavespeed/http.ts';
import type { WavespeedPolicy } from '../providers/wavespeed/policy.ts';
import { createWavespeedSpeech } from '../providers/wavespeed/speech.ts';
import type { Sleep } from '../sleep.ts';

/** The voice for a video provider's run: MiniMax on WaveSpeed, or the local voice (speechInfoFor's twin). */
export function createSpeechProvider(options: {
  provider: 'wavespeed' | 'local';
  cacheDir: string;
  ffmpeg: FfmpegPaths;
  apiKey?: string;
  baseUrl?: string;
  dispatcher?: Dispatcher;
  policy?: Partial<WavespeedPolicy>;
  sleep?: Sleep;
  onRetry?: HttpDeps['onRetry'];
}): SpeechProvider {
  if (options.provider === 'local') return createLocalSpeech({ ffmpeg: options.ffmpeg, workDir: path.join(options.cacheDir, 'work', 'speech') });
  return createWavespeedSpeech({
    apiKey: options.apiKey!,
    baseUrl: options.baseUrl,
    ffmpeg: options.ffmpeg,
    dispatcher: options.dispatcher,
    policy: options.policy,
    sleep: options.sleep,
    onRetry: options.onRetry,
  });
}
