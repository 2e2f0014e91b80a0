/**
 * MiniMax Speech 02 on WaveSpeed (DESIGN.md, WaveSpeed wire): `POST
 * /api/v3/minimax/speech-02-hd` (or `-turbo`) with the text and voice, then
 * the same result polling as video; `outputs[0]` is the audio. Built on the
 * video client's parts (http.ts send/readEnvelope, result.ts, the output
 * downloader): the same retry rules, the key only to the API's origin.
 */
import { AmbiguousSubmitError, DuologueError, OutputError, abortError } from '../../errors.ts';
import { ffprobe, type FfmpegPaths } from '../../media/ffmpeg.ts';
import { SPEECH_PRICES } from '../../speech/prices.ts';
import type { SpeechProvider, SpeechTask } from '../speech-types.ts';
import type { SpeechSpec } from '../../types.ts';
import { connect, type WavespeedConnectionOptions } from './context.ts';
import { createDownloader } from './download.ts';
import { readEnvelope, send } from './http.ts';
import { deadlineFor, pollDelayMs } from './policy.ts';
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
    // An OutputError: what was delivered is unusable (paid; only a new prediction helps), not a fetch that may work next time.
    const probe = await ffprobe(tmp, options.ffmpeg).catch((cause: unknown) => {
      throw new OutputError(`${label}: the audio cannot be decoded`, { cause });
    });
    const seconds = Number(probe.format?.duration);
    if (!probe.streams?.some((s) => s.codec_type === 'audio') || !(seconds > 0)) throw new OutputError(`${label}: the output has no audio`);
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
              // A 429 proves no task exists: the line waits out the rate limit, as a video submit does, up to its deadline.
              retryForMs: deadlineFor(task.estimateSeconds, policy),
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
    quote: (task, { signal } = {}) =>
      redact(
        (async () => {
          // The same quote endpoint as video's (account.ts), for the MiniMax model; creates nothing, so retried freely.
          const url = apiUrl('/api/v3/model/price');
          const text = JSON.stringify({ model_id: `minimax/${task.model}`, inputs: speechBody(task.spec) });
          const what = `speech price quote for ${label(task)}`;
          const res = await send({ method: 'POST', url, label: `[POST] "${url}" (${label(task)})`, headers: headersFor(url, { 'content-type': 'application/json' }), body: () => text, mode: 'idempotent', signal }, deps);
          const data = await readEnvelope<{ price?: unknown; discounted_price?: unknown }>(res, what);
          const usd = (v: unknown) => (typeof v === 'string' ? Number(v) : v);
          const price = usd(data.price);
          if (typeof price !== 'number' || !Number.isFinite(price)) throw new DuologueError('E_API', `${what}: expected an amount of USD, got ${JSON.stringify(data.price)}`);
          // A discount shows as a lower `discounted_price`; that is what is charged.
          const discounted = usd(data.discounted_price);
          return typeof discounted === 'number' && Number.isFinite(discounted) && discounted >= 0 && discounted < price ? discounted : price;
        })(),
      ),
    async close() {
      await close();
    },
  };
}
