/**
 * MiniMax Speech 02 on WaveSpeed (DESIGN.md, WaveSpeed wire): `POST
 * /api/v3/minimax/speech-02-hd` (or `-turbo`) with the text and voice, then
 * the same result polling as video; `outputs[0]` is the audio. Built on the
 * video client's parts (http.ts send/readEnvelope, result.ts, the output
 * downloader): the same retry rules, the key only to the API's origin.
 */
import { DEFAULTS } from '../../defaults.ts';
import { AmbiguousSubmitError, DuologueError, OutputError, PredictionGoneError, abortError } from '../../errors.ts';
import { ffprobe, type FfmpegPaths } from '../../media/ffmpeg.ts';
import { realSleep } from '../../sleep.ts';
import { SPEECH_PRICES } from '../../speech/prices.ts';
import type { SpeechProvider, SpeechTask } from '../speech-types.ts';
import type { SpeechSpec } from '../../types.ts';
import { wavespeedAgent } from './agent.ts';
import { apiContext, type WavespeedConnectionOptions } from './context.ts';
import { createDownloader } from './download.ts';
import { readEnvelope, send, type HttpDeps } from './http.ts';
import { DEFAULT_POLICY, baseBackoffMs, pollDelayMs, type WavespeedPolicy } from './policy.ts';
import { readResult, type Prediction } from './result.ts';

export interface WavespeedSpeechOptions extends WavespeedConnectionOptions {
  ffmpeg: FfmpegPaths;
}

/** The request body MiniMax takes. Pure. */
export function speechBody(spec: SpeechSpec): Record<string, unknown> {
  return {
    text: spec.text,
    voice_id: spec.voice,
    speed: spec.speed,
    volume: spec.volume,
    pitch: spec.pitch,
    ...(spec.emotion === undefined ? {} : { emotion: spec.emotion }),
    // Numbers, dates and abbreviations read as words in English scripts ("Dr. 3" → "doctor three").
    english_normalization: true,
  };
}

export function createWavespeedSpeech(options: WavespeedSpeechOptions): SpeechProvider {
  const policy: WavespeedPolicy = { ...DEFAULT_POLICY, ...options.policy };
  const base = new URL(options.baseUrl ?? DEFAULTS.baseUrl);
  const ownsDispatcher = !options.dispatcher;
  const dispatcher = options.dispatcher ?? wavespeedAgent(policy);
  const deps: HttpDeps = { dispatcher, sleep: options.sleep ?? realSleep, random: options.random ?? Math.random, now: options.now ?? Date.now, policy, onRetry: options.onRetry };
  // Auth only for the API's own origin; any other host gets no key, and no error carries it.
  const { ctx, redact } = apiContext(base, options.apiKey, deps, policy);
  const { apiUrl, headersFor } = ctx;
  // Audio, not mp4: checked by decoding it, its length is what it is (nothing is billed by length).
  const download = createDownloader(ctx, async (_file, _task, label, tmp) => {
    const probe = await ffprobe(tmp, options.ffmpeg).catch((cause: unknown) => {
      throw new DuologueError('E_API', `${label}: the audio cannot be decoded`, { cause });
    });
    const seconds = Number(probe.format?.duration);
    if (!probe.streams?.some((s) => s.codec_type === 'audio') || !(seconds > 0)) throw new DuologueError('E_API', `${label}: the output has no audio`);
    return seconds;
  });
  const label = (t: SpeechTask) => `${t.episodeId}/${t.sceneId} line ${t.line}`;

  return {
    id: 'wavespeed',
    label: 'WaveSpeed MiniMax Speech 02',
    prices: SPEECH_PRICES,
    billed: true,
    resumable: true,
    modelFor: (spec) => spec.model,
    submit: (task, { signal, onSubmitting, onNotSubmitted, forceSignal } = {}) =>
      redact(
        (async () => {
          if (signal?.aborted) throw abortError(signal);
          const body = speechBody(task.spec);
          const text = JSON.stringify(body);
          const url = apiUrl(`/api/v3/minimax/${task.model}`);
          const res = await send(
            {
              method: 'POST',
              url,
              label: `[POST] "${url}" (${label(task)})`,
              headers: headersFor(url, { 'content-type': 'application/json' }),
              body: () => text,
              mode: 'submit',
              signal,
              beforeAttempt: () => onSubmitting?.({ model: `minimax/${task.model}`, at: deps.now(), body }),
              onNoTask: onNotSubmitted,
              requestSignal: forceSignal ?? new AbortController().signal,
            },
            deps,
          );
          let data: Prediction;
          try {
            data = await readEnvelope<Prediction>(res, `submit ${label(task)}`);
          } catch (error) {
            throw new AmbiguousSubmitError('E_API', `${(error as Error).message} — the speech may have been created and billed; it is not resubmitted`, { cause: error });
          }
          if (typeof data.id !== 'string' || data.id === '') {
            throw new AmbiguousSubmitError('E_API', `submit ${label(task)}: the response has no data.id — the speech may have been created and billed; it is not resubmitted`);
          }
          return { predictionId: data.id };
        })(),
      ),
    wait: (id, task, { signal } = {}) =>
      redact(
        (async () => {
          // Speech takes seconds: polled at the video floor, up to a deadline of a few minutes per minute of text.
          const until = deps.now() + Math.max(120_000, task.estimateSeconds * 10_000);
          let unreadable = 0;
          for (let n = 0; ; n++) {
            let result;
            try {
              result = await readResult(ctx, id, `${label(task)} (prediction ${id})`, signal);
              unreadable = 0;
            } catch (error) {
              // Final answers are thrown at once; an unreadable one is looked at again a bounded number of times.
              if (error instanceof OutputError || error instanceof PredictionGoneError) throw error;
              if ((error as DuologueError).code !== 'E_API' || ++unreadable >= policy.maxAttempts) throw error;
              await deps.sleep(baseBackoffMs(unreadable, policy), signal);
              continue;
            }
            if (result.status === 'completed' || result.status === 'failed') return result;
            if (deps.now() >= until) throw new DuologueError('E_DEADLINE', `${label(task)}: speech prediction ${id} still ${result.status} at the deadline; its id is kept and the next run resumes it`);
            await deps.sleep(pollDelayMs(n, policy), signal);
          }
        })(),
      ),
    download: (result, task, dest, { signal } = {}) =>
      redact(
        (async () => {
          const got = await download(result, { episodeId: task.episodeId, sceneId: `${task.sceneId} line ${task.line}`, videoSeconds: task.estimateSeconds }, dest, signal);
          return { path: got.path, bytes: got.bytes, sha256: got.sha256 ?? '', durationSeconds: got.durationSeconds };
        })(),
      ),
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
