import type { ProbeResult } from './ffmpeg.ts';

/** What planning needs to know about one input file. */
export type MediaFacts =
  | { kind: 'audio'; sha256: string; localPath: string; durationMs: number; sampleRate: number; channels: number }
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
    return {
      ok: true,
      facts: { kind: 'audio', sha256, localPath, durationMs: Math.round(seconds * 1000), sampleRate: num(audio.sample_rate) ?? 0, channels: audio.channels ?? 0 },
    };
  }
  const picture = streams.find((s) => s.codec_type === 'video');
  // A still image probes as one video stream in an image demuxer (png_pipe, jpeg_pipe, image2...).
  const stillFormat = /(_pipe|^image2)$/.test(format) || /^(png|mjpeg|webp|bmp|tiff|gif)$/.test(picture?.codec_name ?? '');
  if (!picture || !stillFormat) return { ok: false, reason: `is not an image (${describe(format, streams)})` };
  if (!picture.width || !picture.height) return { ok: false, reason: 'has no readable size' };
  if (picture.width < 64 || picture.height < 64) return { ok: false, reason: `is ${picture.width}×${picture.height}; at least 64×64 is needed` };
  return { ok: true, facts: { kind: 'image', sha256, localPath, width: picture.width, height: picture.height } };
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
