/**
 * The one module that starts ffmpeg/ffprobe. fluent-ffmpeg is archived
 * upstream, so it stays behind this file: everything else builds argument
 * lists with pure functions and calls `runFfmpeg` / `ffprobe` here.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import Ffmpeg from 'fluent-ffmpeg';
import { DuologueError } from '../errors.ts';

const require = createRequire(import.meta.url);

export interface FfmpegPaths {
  ffmpeg: string;
  ffprobe: string;
}

/** Binaries from npm (`@ffmpeg-installer/*`), unless FFMPEG_PATH / FFPROBE_PATH say otherwise. */
export function resolveFfmpegPaths(env: NodeJS.ProcessEnv = process.env): FfmpegPaths {
  return {
    ffmpeg: env.FFMPEG_PATH || (require('@ffmpeg-installer/ffmpeg') as { path: string }).path,
    ffprobe: env.FFPROBE_PATH || (require('@ffprobe-installer/ffprobe') as { path: string }).path,
  };
}

export interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  duration?: number | string;
  sample_rate?: number | string;
  channels?: number;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  nb_frames?: number | string;
}

export interface ProbeResult {
  format: { format_name?: string; duration?: number | string; size?: number | string };
  streams: ProbeStream[];
}

/** ffprobe through fluent-ffmpeg; the signal kills the child if the run is aborted. */
export function ffprobe(file: string, paths: FfmpegPaths, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const command = Ffmpeg(file).setFfprobePath(paths.ffprobe);
    command.ffprobe((error: Error | null, data: Ffmpeg.FfprobeData) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(abortError(signal));
      if (error) return reject(new DuologueError('E_FFMPEG', `ffprobe failed on ${file}: ${firstLine(error.message)}`, { cause: error }));
      resolve({ format: data.format as ProbeResult['format'], streams: data.streams as ProbeStream[] });
    });
    // fluent-ffmpeg does not take a signal; the probe is short, so on abort we stop waiting.
    const onAbort = () => reject(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RunOptions {
  signal?: AbortSignal;
  /** What is being done, for error messages: "conform s01e01/intro". */
  label?: string;
}

/** Runs ffmpeg with a prepared argument list; rejects with E_FFMPEG and the stderr tail. */
export function runFfmpeg(args: readonly string[], paths: FfmpegPaths, options: RunOptions = {}): Promise<{ stderr: string }> {
  const { signal, label = 'ffmpeg' } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const child = spawn(paths.ffmpeg, ['-hide_banner', '-nostdin', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000); // keep the tail: that is where ffmpeg says why
    });
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new DuologueError('E_FFMPEG', `${label}: cannot start ffmpeg at ${paths.ffmpeg}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(abortError(signal));
      if (code === 0) return resolve({ stderr });
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new DuologueError('E_FFMPEG', `${label}: ffmpeg exited with code ${code}: ${tail}`));
    });
  });
}

export function abortError(signal: AbortSignal): DuologueError {
  return new DuologueError('E_ABORTED', 'aborted', { cause: signal.reason });
}

function firstLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? s;
}
