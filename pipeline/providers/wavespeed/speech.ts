/**
 * MiniMax Speech 02 on WaveSpeed (DESIGN.md, WaveSpeed wire): `POST
 * /api/v3/minimax/speech-02-hd` (or `-turbo`) with the text and voice, then
 * the same result polling as video; `outputs[0]` is the audio. Built on the
 * video client's parts (http.ts send/readEnvelope, result.ts, the output
 * downloader): the same retry rules, the key only to the API's origin.
 */
import { AmbiguousSubmitError, DuologueError, abortError } from '../../errors.ts';
import { ffprobe, type FfmpegPaths } from '../../media/ffmpeg.ts';
import { SPEECH_PRICES } from '../../speech/prices.ts';
import type { SpeechProvider, SpeechTask } from '../speech-types.ts';
import type { SpeechSpec } from '../../types.ts';
import { connect, type WavespeedConnectionOptions } from './context.ts';
import { createDownloader } from './download.ts';
import { readEnvelope, send } from './http.ts';
import { pollDelayMs } from './policy.ts';
import { readPatiently, readResult, type Prediction } from './result.ts';

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
  const { ctx, redact, close } = connect(options);
  const { deps, policy } = ctx;
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
          for (let n = 0; ; n++) {
            // Final answers are thrown at once; an unreadable one is looked at again a bounded number of times.
            const result = await readPatiently(ctx, () => readResult(ctx, id, `${label(task)} (prediction ${id})`, signal), signal);
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
      await close();
    },
  };
}
