/**
 * The local voice: offline and free. espeak-ng when it is on PATH (a real,
 * robotic voice), else a deterministic placeholder tone of the estimated
 * length, so a manifest of text renders anywhere. Each makes its own model
 * id, so installing espeak-ng later re-voices the placeholders (for free).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DuologueError, abortError } from '../../errors.ts';
import { ffprobe, runFfmpeg, type FfmpegPaths } from '../../media/ffmpeg.ts';
import { tempTag } from '../../temp-tag.ts';
import { estimateLength } from '../../speech/estimate.ts';
import { espeakArgs, placeholderArgs } from './speech-args.ts';
import { LOCAL_SPEECH_PRICES } from '../../speech/prices.ts';
import type { SpeechProvider, SpeechTask } from '../speech-types.ts';
import { soundsFemale } from '../../speech/voices.ts';

export interface LocalSpeechOptions {
  ffmpeg: FfmpegPaths;
  /** Where voiced lines are made before they are moved into the store. */
  workDir: string;
  /** The espeak-ng program, or false for the placeholder. @default found on PATH */
  espeak?: string | false;
  /** @default process.env.PATH */
  pathEnv?: string;
}

/** A program on PATH, or undefined. */
export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export function createLocalSpeech(options: LocalSpeechOptions): SpeechProvider {
  const espeak = options.espeak === undefined ? findOnPath('espeak-ng', options.pathEnv) : options.espeak || undefined;
  const model = espeak ? 'espeak-ng' : 'placeholder-tone';
  const made = new Map<string, string>();

  async function voice(task: SpeechTask, signal?: AbortSignal): Promise<string> {
    await mkdir(options.workDir, { recursive: true });
    const out = path.join(options.workDir, `${task.key}.${tempTag()}.wav`);
    if (espeak) {
      await new Promise<void>((resolve, reject) => {
        const child = execFile(espeak, espeakArgs(task.spec, out), { signal, timeout: 60_000 }, (error, _stdout, stderr) => {
          if (signal?.aborted) return reject(abortError(signal));
          if (error) return reject(new DuologueError('E_INPUT', `${task.episodeId}/${task.sceneId} line ${task.line}: espeak-ng failed: ${String(stderr).trim() || error.message}`, { cause: error }));
          resolve();
        });
        child.stdin?.end(task.spec.text);
      });
    } else {
      const { ms } = estimateLength(task.spec);
      await runFfmpeg(placeholderArgs(ms, soundsFemale(task.spec.voice), out), options.ffmpeg, { signal, label: `placeholder voice ${task.episodeId}/${task.sceneId}`, mediaSeconds: ms / 1000 });
    }
    return out;
  }

  return {
    id: 'local',
    label: espeak ? 'local voice (espeak-ng)' : 'local placeholder tone (espeak-ng not installed)',
    prices: LOCAL_SPEECH_PRICES,
    billed: false,
    resumable: false,
    modelFor: () => model,
    // Voiced at once: the "prediction" is the file made, alive as long as this process.
    async submit(task, { signal } = {}) {
      if (signal?.aborted) throw abortError(signal);
      const file = await voice(task, signal);
      const id = `local-${path.basename(file)}`;
      made.set(id, file);
      return { predictionId: id };
    },
    async wait(id) {
      const file = made.get(id);
      return file ? { status: 'completed', outputUrl: file } : { status: 'failed', error: 'the local voice forgot this line (another process made it)', failure: { kind: 'other' } };
    },
    async download(result, task, dest, { signal } = {}) {
      if (!result.outputUrl) throw new DuologueError('E_INTERNAL', `download of ${task.key} before it was voiced`);
      await mkdir(path.dirname(dest), { recursive: true });
      try {
        const probe = await ffprobe(result.outputUrl, options.ffmpeg, signal);
        const seconds = Number(probe.format?.duration);
        if (!(seconds > 0)) throw new DuologueError('E_INPUT', `${task.episodeId}/${task.sceneId} line ${task.line}: the voice made no audio`);
        const bytes = await readFile(result.outputUrl);
        await rename(result.outputUrl, dest);
        made.delete(result.outputUrl);
        return { path: dest, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), durationSeconds: seconds };
      } catch (error) {
        await rm(result.outputUrl, { force: true });
        throw error;
      }
    },
  };
}
