import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuologueError } from '../errors.ts';
import { runFfmpeg, type FfmpegPaths } from '../media/ffmpeg.ts';
import { sha256Text } from '../media/hash.ts';
import { concatList, episodeArgs, ffmetadata, measureArgs, slateArgs, slateLines, type LoudnessMeasure } from './args.ts';
import { conformClip } from './conform.ts';
import type { EpisodeFormat } from './format.ts';
import { tempTag } from '../temp-tag.ts';

/** Bump when the stitched bytes for the same inputs would change. */
const STITCH_VERSION = 1;

export interface StitchScene {
  sceneId: string;
  title: string;
  /** The scene's clip; absent when the scene failed or was skipped. */
  clip?: string;
  /** What identifies the clip's content (its cache key). */
  identity: string;
  seed: number;
  /** For a slate in place of a missing clip. */
  expectedSeconds: number;
  missingReason?: string;
}

export interface StitchInput {
  episodeId: string;
  title?: string;
  output: string;
  scenes: StitchScene[];
  format: EpisodeFormat;
  /** Put a slate where a clip is missing instead of refusing. */
  allowPartial?: boolean;
  /** Provenance written beside the episode. */
  provenance?: Record<string, unknown>;
}

export interface StitchOptions {
  workDir: string;
  ffmpeg: FfmpegPaths;
  signal?: AbortSignal;
  fontFile?: string;
  stats?: { conformed: number; reused: number };
}

export type StitchResult =
  /** `note`: what the outcome should say instead of the default (who wrote it, and where). */
  | { status: 'stitched' | 'up-to-date'; output: string; durationSeconds: number; note?: string }
  /** Another worker of the run writes it (it took the episode over): nothing written here, nothing failed. */
  | { status: 'elsewhere'; output: string; note: string }
  | { status: 'not-stitched'; reason: string };

/**
 * conform each clip (cached) → concat with video stream copy → one audio
 * encode with two-pass loudnorm → chapters → +faststart, into a temp file
 * renamed over the episode only on success. Unchanged inputs: untouched.
 */
export async function stitchEpisode(input: StitchInput, options: StitchOptions): Promise<StitchResult> {
  const missing = input.scenes.filter((s) => !s.clip);
  if (missing.length > 0 && !input.allowPartial) {
    return { status: 'not-stitched', reason: `${missing.map((s) => `${s.sceneId} (${s.missingReason ?? 'no clip'})`).join(', ')} missing; --allow-partial puts slates in their place` };
  }
  if ((await stat(input.output).catch(() => undefined))?.isDirectory()) {
    throw new DuologueError('E_USAGE', `output "${input.output}" is a directory; an episode's output: names its file (e.g. ${path.join(input.output, `${input.episodeId}.mp4`)})`);
  }
  const inputsHash = sha256Text(
    JSON.stringify([STITCH_VERSION, input.format, input.title ?? null, input.scenes.map((s) => [s.clip ? s.identity : `slate:${s.missingReason}:${s.expectedSeconds}`, s.title])]),
  );
  const sidecar = `${input.output}.json`;
  if (existsSync(input.output) && existsSync(sidecar)) {
    try {
      const previous = JSON.parse(await readFile(sidecar, 'utf8')) as { inputs_hash?: string; duration_seconds?: number };
      if (previous.inputs_hash === inputsHash) return { status: 'up-to-date', output: input.output, durationSeconds: previous.duration_seconds ?? 0 };
    } catch {
      /* unreadable sidecar: rebuild */
    }
  }

  const conformDir = path.join(options.workDir, 'conformed');
  const parts = [];
  for (const scene of input.scenes) {
    let clip = scene.clip;
    let identity = scene.identity;
    if (!clip) {
      const frames = Math.max(1, Math.round(scene.expectedSeconds * input.format.fps));
      identity = `slate:${sha256Text(JSON.stringify([scene.sceneId, scene.missingReason, frames, input.format.width]))}`;
      clip = path.join(options.workDir, 'slates', `${identity.slice(6)}.mp4`);
      if (!existsSync(clip)) {
        await mkdir(path.dirname(clip), { recursive: true });
        const slateTag = tempTag();
        const tmp = `${clip}.${slateTag}.tmp.mp4`;
        const textFile = `${clip}.${slateTag}.tmp.txt`;
        try {
          await writeFile(textFile, slateLines(scene.sceneId, scene.missingReason ?? 'missing').join('\n'));
          await runFfmpeg(slateArgs({ frames, format: input.format, textFile, fontFile: options.fontFile, out: tmp }), options.ffmpeg, {
            signal: options.signal,
            label: `slate for ${input.episodeId}/${scene.sceneId}`,
            mediaSeconds: frames / input.format.fps,
          });
          await rename(tmp, clip);
        } finally {
          await rm(tmp, { force: true });
          await rm(textFile, { force: true });
        }
      }
    }
    parts.push({ scene, ...(await conformClip(clip, identity, input.format, { dir: conformDir, ffmpeg: options.ffmpeg, signal: options.signal, stats: options.stats })) });
  }

  const tag = tempTag();
  const scratch = path.join(options.workDir, 'stitch', `${input.episodeId}.${tag}`);
  await mkdir(scratch, { recursive: true });
  await mkdir(path.dirname(input.output), { recursive: true }).catch((cause: NodeJS.ErrnoException) => {
    const why = cause.code === 'EEXIST' || cause.code === 'ENOTDIR' ? 'a file stands where a folder should be' : cause.message;
    throw new DuologueError('E_USAGE', `the folder of output "${input.output}" cannot be created: ${why}`, { cause });
  });
  const tmpOut = `${input.output}.${tag}.tmp.mp4`;
  try {
    const videoList = path.join(scratch, 'video.ffconcat');
    const audioList = path.join(scratch, 'audio.ffconcat');
    const metadata = path.join(scratch, 'chapters.txt');
    await writeFile(videoList, concatList(parts.map((p) => p.video)));
    await writeFile(audioList, concatList(parts.map((p) => p.audio)));
    let frame = 0;
    const chapters = parts.map((p) => {
      const start = frame;
      frame += p.frames;
      return { title: p.scene.title, startMs: Math.round((start * 1000) / input.format.fps), endMs: Math.round((frame * 1000) / input.format.fps) };
    });
    await writeFile(metadata, ffmetadata(input.title, chapters, 'made with duologue'));
    const episodeSeconds = frame / input.format.fps; // timeouts scale with the work
    const { stderr } = await runFfmpeg(measureArgs(audioList, input.format), options.ffmpeg, {
      signal: options.signal,
      label: `measure loudness of ${input.episodeId}`,
      mediaSeconds: episodeSeconds,
    });
    const measured = parseLoudnorm(stderr, input.episodeId);
    await runFfmpeg(episodeArgs({ videoList, audioList, metadata, format: input.format, measured, out: tmpOut }), options.ffmpeg, {
      signal: options.signal,
      label: `stitch ${input.episodeId}`,
      mediaSeconds: episodeSeconds,
    });
    const durationSeconds = episodeSeconds;
    await rename(tmpOut, input.output);
    const sidecarTmp = `${sidecar}.${tag}.tmp`;
    await writeFile(
      sidecarTmp,
      `${JSON.stringify(
        {
          episode: input.episodeId,
          title: input.title ?? null,
          inputs_hash: inputsHash,
          duration_seconds: durationSeconds,
          format: input.format,
          scenes: input.scenes.map((s, i) => ({ id: s.sceneId, title: s.title, key: s.identity, seed: s.seed, slate: !s.clip, start_ms: chapters[i].startMs, end_ms: chapters[i].endMs })),
          ...input.provenance,
        },
        null,
        2,
      )}\n`,
    );
    await rename(sidecarTmp, sidecar);
    return { status: 'stitched', output: input.output, durationSeconds };
  } finally {
    await rm(tmpOut, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * loudnorm prints its measurement as the last JSON object on stderr; ebur128
 * prints a Summary before it. The integrated loudness is taken from ebur128
 * (loudnorm's own meter reads up to ~1 LU apart on wide-range material), so
 * the gain lands on the target as the reference meter measures it.
 */
export function parseLoudnorm(stderr: string, label: string): LoudnessMeasure {
  const start = stderr.lastIndexOf('{');
  const end = stderr.lastIndexOf('}');
  try {
    const m = JSON.parse(stderr.slice(start, end + 1)) as LoudnessMeasure;
    if (m.input_i === undefined) throw new Error('no input_i');
    const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
    const integrated = /I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1];
    if (integrated !== undefined && Number.isFinite(Number(integrated))) m.input_i = integrated;
    // Digital silence measures as -inf: nothing to normalize, so measure as quiet instead.
    for (const k of ['input_i', 'input_tp', 'input_thresh'] as const) if (!Number.isFinite(Number(m[k]))) m[k] = '-70';
    if (!Number.isFinite(Number(m.target_offset))) m.target_offset = '0';
    return m;
  } catch (cause) {
    throw new DuologueError('E_FFMPEG', `${label}: could not read the loudness measurement`, { cause });
  }
}
