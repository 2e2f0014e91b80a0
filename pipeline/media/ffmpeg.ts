/**
 * The one module that starts ffmpeg/ffprobe. Everything else builds argument
 * lists with pure functions and calls `runFfmpeg` / `ffprobe` here. Every
 * child has a timeout scaled to its work, a signal, and is killed (SIGTERM,
 * then SIGKILL after a grace) when either fires: nothing is waited on forever.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CHILD_TIMEOUTS } from '../defaults.ts';
import { DuologueError, FfmpegTimeoutError, abortError } from '../errors.ts';

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

/**
 * An input path ffmpeg reads as exactly this file: absolute, through the file
 * protocol (so nothing in the name is taken for a `proto:` prefix). Image
 * inputs also need a pipe demuxer: image2 reads `%d` in a name as a pattern.
 */
export function literalInput(file: string): string {
  return `file:${path.resolve(file)}`;
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
  disposition?: Record<string, number>;
}

export interface ProbeResult {
  format: { format_name?: string; duration?: number | string; size?: number | string };
  streams: ProbeStream[];
}

export interface ChildLimits {
  signal?: AbortSignal;
  /** Kill the child after this long. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL. @default CHILD_TIMEOUTS.killGraceMs */
  killGraceMs?: number;
}

export interface ProbeOptions extends Omit<ChildLimits, 'signal'> {
  /** @default CHILD_TIMEOUTS.ffprobeMs */
  timeoutMs?: number;
}

/**
 * ffprobe as JSON. The file is handed over as an open descriptor
 * (`/dev/fd/3`), so ffprobe decides the format by the bytes alone: no
 * extension guessing, and a name with `%d` or `*` is not read as an image
 * sequence pattern.
 */
export async function ffprobe(file: string, paths: FfmpegPaths, signal?: AbortSignal, options: ProbeOptions = {}): Promise<ProbeResult> {
  if (signal?.aborted) throw abortError(signal);
  const viaFd = process.platform !== 'win32';
  // O_NONBLOCK: opening a FIFO must not block this process; a regular file ignores the flag.
  const handle = viaFd ? await open(file, constants.O_RDONLY | constants.O_NONBLOCK) : undefined;
  try {
    const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', viaFd ? '/dev/fd/3' : file];
    const what = `ffprobe of ${file}`;
    const result = await runChild(paths.ffprobe, args, {
      what,
      signal,
      timeoutMs: options.timeoutMs ?? CHILD_TIMEOUTS.ffprobeMs,
      killGraceMs: options.killGraceMs,
      captureStdout: true,
      fd3: handle?.fd,
    });
    if (result.code !== 0) throw new DuologueError('E_FFMPEG', `ffprobe failed on ${file}: ${lastLine(result.stderr) || `exit code ${result.code}`}`);
    let data: Partial<ProbeResult>;
    try {
      data = JSON.parse(result.stdout) as Partial<ProbeResult>;
    } catch (cause) {
      throw new DuologueError('E_FFMPEG', `ffprobe of ${file} printed something that is not JSON`, { cause });
    }
    return { format: data.format ?? {}, streams: data.streams ?? [] };
  } finally {
    await handle?.close();
  }
}

export interface RunOptions extends ChildLimits {
  /** What is being done, for error messages: "conform s01e01/intro". */
  label?: string;
  /**
   * Seconds of media the command reads or writes; scales the default timeout.
   * @default CHILD_TIMEOUTS.unknownMediaSeconds
   */
  mediaSeconds?: number;
  /** @default ffmpegTimeoutMs(mediaSeconds) */
  timeoutMs?: number;
}

/** The default timeout of an ffmpeg run over `mediaSeconds` of media. Pure. */
export function ffmpegTimeoutMs(mediaSeconds: number = CHILD_TIMEOUTS.unknownMediaSeconds): number {
  return CHILD_TIMEOUTS.ffmpegBaseMs + Math.ceil(Math.max(0, mediaSeconds) * CHILD_TIMEOUTS.ffmpegPerMediaSecondMs);
}

/** Runs ffmpeg with a prepared argument list; rejects with E_FFMPEG and the stderr tail. */
export async function runFfmpeg(args: readonly string[], paths: FfmpegPaths, options: RunOptions = {}): Promise<{ stderr: string }> {
  const { signal, label = 'ffmpeg' } = options;
  if (signal?.aborted) throw abortError(signal);
  const result = await runChild(paths.ffmpeg, ['-hide_banner', '-nostdin', '-y', ...args], {
    what: `${label}: ffmpeg`,
    signal,
    timeoutMs: options.timeoutMs ?? ffmpegTimeoutMs(options.mediaSeconds),
    killGraceMs: options.killGraceMs,
  });
  if (result.code === 0) return { stderr: result.stderr };
  const tail = result.stderr.trim().split('\n').slice(-3).join(' | ');
  throw new DuologueError('E_FFMPEG', `${label}: ffmpeg exited with code ${result.code}: ${tail}`);
}

interface ChildOptions extends ChildLimits {
  /** Names the process in messages: "ffprobe of a.wav". */
  what: string;
  timeoutMs: number;
  captureStdout?: boolean;
  /** A descriptor the child gets as its fd 3. */
  fd3?: number;
}

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts one child and settles exactly once: when it closes, when it cannot
 * start, on abort (killed, E_ABORTED) or on timeout (killed, E_FFMPEG naming
 * what timed out). A killed child is not waited on past its exit, even if a
 * grandchild still holds its pipes.
 */
function runChild(bin: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
  const { signal, what, timeoutMs } = options;
  const grace = options.killGraceMs ?? CHILD_TIMEOUTS.killGraceMs;
  return new Promise((resolve, reject) => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'];
    if (options.fd3 !== undefined) stdio.push(options.fd3);
    const child = spawn(bin, args, { stdio });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000); // keep the tail: that is where ffmpeg says why
    });
    let settled = false;
    let killer: NodeJS.Timeout | undefined;
    let failure = (): DuologueError => new DuologueError('E_INTERNAL', `${what} was killed`);
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onExit = () => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish(() => reject(failure()));
    };
    // A timed-out child gets SIGTERM (ffmpeg closes its file), then SIGKILL if it ignores it.
    // An abort kills at once: the run is stopping and the output is a temp file.
    const kill = (first: NodeJS.Signals) => {
      child.kill(first);
      if (killer) return;
      killer = setTimeout(() => child.kill('SIGKILL'), grace);
      if (child.exitCode !== null || child.signalCode !== null) onExit();
      else child.once('exit', onExit);
    };
    const onAbort = () => {
      failure = () => abortError(signal!); // an abort wins over a timeout kill in progress
      kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      failure = () => new FfmpegTimeoutError(what, timeoutMs);
      kill('SIGTERM');
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => finish(() => reject(new DuologueError('E_FFMPEG', `${what}: cannot start ${bin}: ${error.message}`, { cause: error }))));
    child.on('close', (code) => {
      if (killer) return; // killed: settled on exit above
      finish(() => resolve({ code, stdout, stderr }));
    });
  });
}

function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}
