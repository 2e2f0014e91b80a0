import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { literalInput, runFfmpeg, type FfmpegPaths } from './ffmpeg.ts';
import { trackIdentity, type TrackSpec } from './timeline.ts';

/** Built tracks: 16 kHz mono PCM, what talking-head models listen at (wav2vec). */
export const TRACK_RATE = 16_000;
const SAMPLES_PER_MS = TRACK_RATE / 1000;

/**
 * ffmpeg arguments that write a built or silent track to `out`. Every segment
 * is cut to an exact sample count, so the track lasts exactly its recipe's
 * milliseconds and the bytes are the same on every run (bitexact, no metadata).
 */
export function trackArgs(track: Extract<TrackSpec, { kind: 'built' | 'silence' }>, out: string): string[] {
  const inputs: string[] = [];
  const filters: string[] = [];
  const segments: string[] = [];
  const silence = (ms: number) => {
    const label = `s${segments.length}`;
    filters.push(`anullsrc=r=${TRACK_RATE}:cl=mono,atrim=end_sample=${ms * SAMPLES_PER_MS}[${label}]`);
    segments.push(`[${label}]`);
  };
  if (track.kind === 'silence') {
    silence(track.durationMs);
  } else {
    let cursor = 0;
    track.placements.forEach((p, i) => {
      if (p.startMs > cursor) silence(p.startMs - cursor);
      inputs.push('-i', literalInput(p.localPath));
      const label = `l${i}`;
      // Resample, make mono, then pad/trim to the placement's exact length.
      filters.push(
        `[${i}:a]aresample=${TRACK_RATE},aformat=sample_fmts=s16:channel_layouts=mono,apad,atrim=end_sample=${p.durationMs * SAMPLES_PER_MS},asetpts=N/SR/TB[${label}]`,
      );
      segments.push(`[${label}]`);
      cursor = p.startMs + p.durationMs;
    });
    if (track.durationMs > cursor) silence(track.durationMs - cursor);
  }
  const graph = [...filters, `${segments.join('')}concat=n=${segments.length}:v=0:a=1[out]`].join(';');
  return [
    ...inputs,
    '-filter_complex', graph,
    '-map', '[out]',
    '-c:a', 'pcm_s16le', '-ar', String(TRACK_RATE), '-ac', '1',
    '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact',
    '-f', 'wav', out,
  ];
}

/**
 * ffmpeg arguments that cut a trimmed track out of its source's local file
 * `source`: exact sample counts at the source's rate (silence past its end),
 * PCM, bitexact, no metadata, so the same recipe writes the same bytes.
 */
export function trimArgs(track: Extract<TrackSpec, { kind: 'trimmed' }>, source: string, out: string): string[] {
  const { sampleRate: rate, channels } = track;
  const from = Math.round((track.startMs * rate) / 1000);
  const to = Math.round(((track.startMs + track.durationMs) * rate) / 1000);
  const layout = channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels}c`;
  return [
    '-i', literalInput(source),
    '-filter_complex', `[0:a]aresample=${rate},aformat=sample_fmts=s16:channel_layouts=${layout},apad,atrim=start_sample=${from}:end_sample=${to},asetpts=N/SR/TB[out]`,
    '-map', '[out]',
    '-c:a', 'pcm_s16le', '-ar', String(rate), '-ac', String(channels),
    '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact',
    '-f', 'wav', out,
  ];
}

/**
 * A local file holding the track's bytes: the input itself for a file track;
 * for built and silent tracks, a file in `workDir` named by the track's
 * identity, built once (temp file, then rename) and reused.
 */
export async function materializeTrack(track: TrackSpec, workDir: string, ffmpeg: FfmpegPaths, signal?: AbortSignal): Promise<string> {
  if (track.kind === 'file') return track.localPath;
  const id = trackIdentity(track).replace(/^built:/, '');
  const dir = path.join(workDir, 'tracks');
  const out = path.join(dir, `${id}.wav`);
  if (await exists(out)) return out;
  // Scenes sharing a track (every one-voice scene of a length shares its silence) build it once:
  // a second build renamed over the first would change the file under an upload in progress.
  const pending = building.get(out);
  if (pending) return pending;
  const job = (async () => {
    await mkdir(dir, { recursive: true });
    const tmp = `${out}.${randomUUID()}.tmp`;
    try {
      if (track.kind === 'trimmed') {
        const source = await materializeTrack(track.source, workDir, ffmpeg, signal);
        await runFfmpeg(trimArgs(track, source, tmp), ffmpeg, { signal, label: 'trim track edges', mediaSeconds: track.source.durationMs / 1000 });
      } else {
        await runFfmpeg(trackArgs(track, tmp), ffmpeg, { signal, label: 'build dialogue track', mediaSeconds: track.durationMs / 1000 });
      }
      if (!(await exists(out))) await rename(tmp, out); // another process may have built it meanwhile: keep theirs
    } finally {
      await rm(tmp, { force: true });
    }
    return out;
  })();
  building.set(out, job);
  try {
    return await job;
  } finally {
    building.delete(out);
  }
}

/** Builds in progress in this process, by output path. */
const building = new Map<string, Promise<string>>();

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).size > 0;
  } catch {
    return false;
  }
}
