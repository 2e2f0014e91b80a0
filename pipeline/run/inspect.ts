import { stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { LIMITS } from '../defaults.ts';
import { FfmpegTimeoutError, type Diagnostic } from '../errors.ts';
import type { FileMemo } from '../cache/interfaces.ts';
import type { MediaRef, SceneSpec, Series } from '../types.ts';
import { describeFsError } from '../manifest/parse.ts';
import { ffprobe, type FfmpegPaths, type ProbeResult } from '../media/ffmpeg.ts';
import { interpretProbe, type MediaFacts } from '../media/facts.ts';
import { sha256File } from '../media/hash.ts';

export interface InspectOptions {
  memo: FileMemo;
  ffmpeg: FfmpegPaths;
  /** Turns an http(s) input into a local file (downloaded once into the cache). */
  fetchRemote?: (url: string, signal?: AbortSignal) => Promise<string>;
  signal?: AbortSignal;
  /** Kill a probe that runs longer than this. @default CHILD_TIMEOUTS.ffprobeMs */
  probeTimeoutMs?: number;
  /** Counts, for tests and benchmarks: how many files were actually read. */
  stats?: { hashed: number; probed: number; memoHits: number };
}

export interface Inspection {
  /** Facts per media location (absolute path or URL). */
  media: Map<string, MediaFacts>;
  diagnostics: Diagnostic[];
}

interface Use {
  ref: MediaRef;
  want: 'audio' | 'image';
  scene: SceneSpec;
}

/**
 * Hashes and probes every distinct input once (memoized), and turns every
 * unusable one into a positioned diagnostic naming the file and the scene.
 */
export async function inspectMedia(series: Series, options: InspectOptions): Promise<Inspection> {
  const uses = new Map<string, Use[]>();
  for (const ep of series.episodes) {
    for (const scene of ep.scenes) {
      for (const use of usesOf(scene)) {
        const key = `${use.want}\0${use.ref.location}`;
        // In place: copying the list per use made a series that shares one file quadratic.
        uses.get(key)?.push(use) ?? uses.set(key, [use]);
      }
    }
  }
  const limit = pLimit(LIMITS.inspectConcurrency);
  const media = new Map<string, MediaFacts>();
  const diagnostics: Diagnostic[] = [];
  await Promise.all(
    [...uses.values()].map((list) =>
      limit(async () => {
        const first = list[0];
        const result = await inspectOne(first.ref, first.want, options);
        if (result.ok) {
          media.set(first.ref.location, result.facts);
          return;
        }
        const others = list.length - 1;
        diagnostics.push({
          severity: 'error',
          code: 'E_INPUT',
          file: first.ref.file,
          ...first.ref.pos,
          where: `${first.scene.episodeId}/${first.scene.sceneId}`,
          message: `${first.want} "${first.ref.given}" ${result.reason}${others > 0 ? ` (also used by ${others} other scene${others === 1 ? '' : 's'})` : ''}`,
        });
      }),
    ),
  );
  // Parallel work finishes in any order; report in file order.
  diagnostics.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { media, diagnostics };
}

function usesOf(scene: SceneSpec): Use[] {
  const out: Use[] = [{ ref: scene.image, want: 'image', scene }];
  if (scene.audio.form === 'pair') {
    if (scene.audio.left) out.push({ ref: scene.audio.left, want: 'audio', scene });
    if (scene.audio.right) out.push({ ref: scene.audio.right, want: 'audio', scene });
  } else {
    for (const line of scene.audio.lines) out.push({ ref: line.media, want: 'audio', scene });
  }
  // A line not voiced yet has no file: its facts are the speech stage's estimate (run/speech.ts).
  return out.filter((u) => u.ref.kind !== 'speech');
}

async function inspectOne(
  ref: MediaRef,
  want: 'audio' | 'image',
  options: InspectOptions,
): Promise<{ ok: true; facts: MediaFacts } | { ok: false; reason: string }> {
  let file = ref.location;
  if (ref.kind === 'url') {
    if (!options.fetchRemote) return { ok: false, reason: 'is a URL, and no downloader was given' };
    try {
      file = await options.fetchRemote(ref.location, options.signal);
    } catch (cause) {
      return { ok: false, reason: `cannot be downloaded: ${(cause as Error).message}` };
    }
  }
  let info;
  try {
    info = await stat(file, { bigint: false });
    if (!info.isFile()) return { ok: false, reason: 'is not a file' };
  } catch (cause) {
    return { ok: false, reason: describeFsError(cause) };
  }
  if (info.size === 0) return { ok: false, reason: 'is an empty file (0 bytes)' };
  const memo = await options.memo.get(file, info);
  let sha256: string;
  let probe: ProbeResult | null;
  if (memo) {
    if (options.stats) options.stats.memoHits++;
    sha256 = memo.sha256;
    probe = memo.probe as ProbeResult | null;
  } else {
    try {
      [sha256, probe] = await Promise.all([
        sha256File(file, options.signal),
        ffprobe(file, options.ffmpeg, options.signal, { timeoutMs: options.probeTimeoutMs }).catch((e: unknown) => {
          if (options.signal?.aborted || e instanceof FfmpegTimeoutError) throw e;
          return null; // ffprobe cannot read it: remembered as undecodable
        }),
      ]);
    } catch (cause) {
      // A probe that hung says nothing about the file: reported, and not remembered.
      if (cause instanceof FfmpegTimeoutError) return { ok: false, reason: `could not be checked: ${cause.message}` };
      return { ok: false, reason: describeFsError(cause) };
    }
    if (options.stats) {
      options.stats.hashed++;
      options.stats.probed++;
    }
    await options.memo.put(file, info, { sha256, probe });
  }
  if (probe === null) return { ok: false, reason: `cannot be decoded (ffprobe found no readable ${want})` };
  return interpretProbe(want, sha256, probe, file);
}
