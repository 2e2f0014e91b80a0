import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ffprobe, runFfmpeg, type FfmpegPaths } from '../media/ffmpeg.ts';
import { sha256Text } from '../media/hash.ts';
import { conformArgs } from './args.ts';
import type { EpisodeFormat } from './format.ts';
import { tempTag } from '../temp-tag.ts';

/** Bump when conformArgs would produce different output. */
const CONFORM_VERSION = 1;

export interface Conformed {
  video: string;
  audio: string;
  frames: number;
}

export interface ConformOptions {
  dir: string;
  ffmpeg: FfmpegPaths;
  signal?: AbortSignal;
  /** Counts real conform runs (tests, benchmarks). */
  stats?: { conformed: number; reused: number };
}

/**
 * A clip in the episode format, cached by (clip identity, format): a rebuild
 * after one scene changed conforms one clip. Written to temp names, renamed.
 */
export async function conformClip(clip: string, identity: string, format: EpisodeFormat, options: ConformOptions): Promise<Conformed> {
  const id = sha256Text(JSON.stringify([CONFORM_VERSION, identity, format.width, format.height, format.fps]));
  const base = path.join(options.dir, id.slice(0, 2), id);
  const out = { video: `${base}.mp4`, audio: `${base}.wav`, meta: `${base}.json` };
  const known = existsSync(out.video) && existsSync(out.audio) ? await readFrames(out.meta, identity) : undefined;
  if (known !== undefined) {
    if (options.stats) options.stats.reused++;
    return { video: out.video, audio: out.audio, frames: known };
  }
  const probe = await ffprobe(clip, options.ffmpeg, options.signal);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const seconds = Number(video?.duration ?? probe.format.duration);
  const frames = Math.max(1, Math.round(seconds * format.fps));
  await mkdir(path.dirname(base), { recursive: true });
  const tag = tempTag();
  const tmp = { video: `${base}.${tag}.tmp.mp4`, audio: `${base}.${tag}.tmp.wav`, meta: `${out.meta}.${tag}.tmp` };
  try {
    await runFfmpeg(
      conformArgs({ clip, hasAudio: probe.streams.some((s) => s.codec_type === 'audio'), frames, format, videoOut: tmp.video, audioOut: tmp.audio }),
      options.ffmpeg,
      { signal: options.signal, label: `conform ${path.basename(clip)}`, mediaSeconds: seconds },
    );
    await rename(tmp.video, out.video);
    await rename(tmp.audio, out.audio);
    // The metadata is what says "conformed": written last, whole or not at all.
    await writeFile(tmp.meta, JSON.stringify({ frames, identity }));
    await rename(tmp.meta, out.meta);
  } finally {
    await Promise.all(Object.values(tmp).map((f) => rm(f, { force: true })));
  }
  if (options.stats) options.stats.conformed++;
  return { video: out.video, audio: out.audio, frames };
}

/**
 * The frame count a finished conform recorded, or undefined when there is
 * none to trust (missing, unreadable, cut short, another clip's): the clip
 * is then conformed again, which costs a little time and nothing else.
 */
async function readFrames(meta: string, identity: string): Promise<number | undefined> {
  try {
    const m = JSON.parse(await readFile(meta, 'utf8')) as { frames?: unknown; identity?: unknown };
    return Number.isInteger(m.frames) && (m.frames as number) > 0 && m.identity === identity ? (m.frames as number) : undefined;
  } catch {
    return undefined;
  }
}
