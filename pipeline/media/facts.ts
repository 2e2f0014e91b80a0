import { LIMITS } from '../defaults.ts';
import type { ProbeResult } from './ffmpeg.ts';
import type { EdgeSilence } from './silence.ts';

/**
 * A line written as text and not voiced yet: its audio's facts are an
 * estimate (`durationMs` holds the safe upper bound the budget reserves; no
 * file, and `sha256` names the speech key, so no video key made from it
 * can be a hit).
 */
export interface PendingSpeech {
  key: string;
  /** What voicing it costs (exact: priced per character). */
  usd: number;
  /** Expected length, ms (durationMs is the bound). */
  ms: number;
  charsPerSecond: number;
  /** The rate was learned from this voice's cached speech (else the default). */
  learned: boolean;
}

/** What planning needs to know about one input file. */
export type MediaFacts =
  | {
      kind: 'audio';
      sha256: string;
      localPath: string;
      durationMs: number;
      sampleRate: number;
      channels: number;
      /** Silence at its start and end (silencedetect, memoised); absent when not measured. */
      edges?: EdgeSilence;
      /** A line written as text, not voiced yet: these facts are its estimate. */
      pending?: PendingSpeech;
    }
  | { kind: 'image'; sha256: string; localPath: string; width: number; height: number };

/** Why a file cannot be used as `want`, or its facts. Pure: unit-tested on probe JSON. */
export function interpretProbe(
  want: 'audio' | 'image',
  sha256: string,
  probe: ProbeResult,
  localPath: string,
): { ok: true; facts: MediaFacts } | { ok: false; reason: string } {
  const streams = probe.streams ?? [];
  const format = probe.format?.format_name ?? '';
  if (want === 'audio') {
    const audio = streams.find((s) => s.codec_type === 'audio');
    if (!audio) return { ok: false, reason: `has no audio stream (${describe(format, streams)})` };
    const seconds = num(audio.duration) ?? num(probe.format?.duration);
    if (seconds === undefined) return { ok: false, reason: 'is empty, or its duration cannot be read' };
    if (seconds <= 0) return { ok: false, reason: 'is empty (0 s)' };
    const ms = Math.round(seconds * 1000);
    if (ms < LIMITS.minAudioMs) return { ok: false, reason: `is only ${ms} ms long; at least ${LIMITS.minAudioMs} ms of speech is needed` };
    return {
      ok: true,
      facts: { kind: 'audio', sha256, localPath, durationMs: ms, sampleRate: num(audio.sample_rate) ?? 0, channels: audio.channels ?? 0 },
    };
  }
  const refusal = stillImageRefusal(format, streams);
  if (refusal) return { ok: false, reason: refusal };
  const picture = streams[0];
  if (!picture.width || !picture.height) return { ok: false, reason: 'has no readable size' };
  if (picture.width < 64 || picture.height < 64) return { ok: false, reason: `is ${picture.width}×${picture.height}; at least 64×64 is needed` };
  return { ok: true, facts: { kind: 'image', sha256, localPath, width: picture.width, height: picture.height } };
}

/**
 * Still images the renderers can use, by what ffprobe found in the bytes (not
 * the file name): WaveSpeed takes PNG, JPEG and WebP, and the local renderer
 * loops one decoded frame. GIF (still or animated), APNG, animated WebP, BMP,
 * TIFF, and audio files carrying cover art are refused.
 */
const STILL_IMAGES: Record<string, string> = { png_pipe: 'png', jpeg_pipe: 'mjpeg', webp_pipe: 'webp' };

function stillImageRefusal(format: string, streams: ProbeResult['streams']): string | undefined {
  const what = describe(format, streams);
  if (streams.some((s) => s.codec_type === 'audio')) {
    return streams.some((s) => s.codec_type === 'video')
      ? `is not an image but audio with cover art (${what}); use a PNG, JPEG or WebP still image`
      : `is not an image but audio (${what})`;
  }
  const picture = streams.length === 1 && streams[0].codec_type === 'video' ? streams[0] : undefined;
  // image2 is the same demuxers chosen by file name; the codec still comes from the bytes' decoder.
  const codecOk = picture && (STILL_IMAGES[format] === picture.codec_name || (format === 'image2' && Object.values(STILL_IMAGES).includes(picture.codec_name ?? '')));
  if (!picture || !codecOk) {
    const kind = /gif/.test(format) || picture?.codec_name === 'gif' ? 'a GIF' : format === 'apng' ? 'an animated PNG' : undefined;
    return `is ${kind ?? 'not a still image'} (${what}); use a PNG, JPEG or WebP still image`;
  }
  // ffprobe gives an animated WebP no size: its frames are not decodable as one still.
  if (picture.codec_name === 'webp' && !picture.width) return `is an animated WebP (${what}); use a PNG, JPEG or WebP still image`;
  return undefined;
}

function describe(format: string, streams: ProbeResult['streams']): string {
  const kinds = streams.map((s) => `${s.codec_type ?? '?'}:${s.codec_name ?? '?'}`).join(', ');
  return `format ${format || 'unknown'}${kinds ? `, streams ${kinds}` : ', no streams'}`;
}

function num(v: number | string | undefined): number | undefined {
  if (v === undefined || v === 'N/A' || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}
