import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../errors.ts';
import type { EpisodeSpec, MediaRef, SceneSpec, Series } from '../types.ts';

export interface OutputRuleOptions {
  /** Where an episode without `output:` goes: `<outDir>/<id>.mp4`. */
  outDir: string;
  /** No episode is written inside the cache (gc and the clip store own it). */
  cacheDir?: string;
  /** Allow outputs outside the manifest's folder and outDir. */
  allowOutside?: boolean;
}

/** Cache folders whose content duologue writes, replaces and removes (clip store, scratch, downloads). */
const MANAGED_CACHE_FOLDERS = ['clips', 'work', 'remote'];

/** Where an episode's file goes: its `output:` or `<outDir>/<id>.mp4`. */
export function episodeOutput(ep: Pick<EpisodeSpec, 'id' | 'output'>, outDir: string): string {
  return ep.output ?? path.join(outDir, `${ep.id}.mp4`);
}

/**
 * Refuses, before any spend, an episode file that would destroy something or
 * land somewhere unexpected: not `.mp4`, an existing directory, one of the
 * run's inputs, inside the cache, the same file as another episode's, or
 * (unless allowed) outside the manifest's folder and the output folder.
 * Paths are compared resolved through symlinks, so an alias cannot slip past.
 */
export async function checkOutputs(series: Series, options: OutputRuleOptions): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const outDirGiven = path.resolve(options.outDir);
  const [outDir, cacheDir] = await Promise.all([realish(outDirGiven), options.cacheDir ? realish(options.cacheDir) : undefined]);
  const inputs = await inputsByRealPath(series);
  const taken = new Map<string, EpisodeSpec>();
  for (const ep of series.episodes) {
    const file = episodeOutput(ep, outDirGiven);
    const shown = ep.output === undefined ? `${file} (the default, <out>/${ep.id}.mp4)` : `"${ep.outputGiven ?? ep.output}"`;
    const at = { severity: 'error' as const, code: 'E_MANIFEST' as const, file: ep.file, ...(ep.outputPos ?? ep.pos), where: ep.id };
    const problem = (message: string) => out.push({ ...at, message: `output ${shown} ${message}` });
    const real = await realish(file);

    if (!/\.mp4$/i.test(file)) problem('does not end in .mp4: an episode is always an MP4 file, and another extension usually means a typo');
    const existing = await stat(real).catch(() => undefined);
    if (existing?.isDirectory()) problem('is an existing directory; name the file inside it, e.g. output: <dir>/episode.mp4');
    const input = inputs.get(real);
    if (input) problem(`is an input of this run (${input}); writing the episode would destroy it`);
    // `output:` may not point into the cache at all; `--out` inside it is the user's own choice
    // (CI keeps everything under one folder), except in the folders duologue fills and empties.
    if (cacheDir) {
      const forbidden = ep.output === undefined ? MANAGED_CACHE_FOLDERS.map((f) => path.join(cacheDir, f)) : [cacheDir];
      if (forbidden.some((dir) => isInside(dir, real))) problem(`is inside the cache directory (${path.resolve(options.cacheDir!)}), which duologue manages and cleans`);
    }
    if (!options.allowOutside && ep.output !== undefined) {
      const manifestDir = await realish(path.dirname(path.resolve(ep.file)));
      if (!isInside(manifestDir, real) && !isInside(outDir, real)) {
        problem(`is outside the manifest's folder (${path.dirname(path.resolve(ep.file))}) and the output folder (${outDirGiven}); pass --allow-outside to write there`);
      }
    }
    const other = taken.get(real);
    if (other) {
      // Point at whichever of the two was written in a manifest (a default has no position).
      const target = ep.output === undefined && other.output !== undefined ? other : ep;
      const second = target === ep ? other : ep;
      const where = target === ep ? at : { ...at, file: other.file, ...(other.outputPos ?? other.pos), where: other.id };
      const targetShown = target === ep ? shown : `"${other.outputGiven ?? other.output}"`;
      const its = second.output === undefined ? `its default, <out>/${second.id}.mp4` : `its output: "${second.outputGiven ?? second.output}"`;
      out.push({ ...where, message: `output ${targetShown} is also where episode ${second.id} is written (${its}); each episode needs its own file` });
    } else {
      taken.set(real, ep);
    }
  }
  return out;
}

/** Every local input's real path → which scene uses it as what (for messages). */
async function inputsByRealPath(series: Series): Promise<Map<string, string>> {
  const uses: [MediaRef, SceneSpec, string][] = [];
  for (const ep of series.episodes) {
    for (const scene of ep.scenes) {
      uses.push([scene.image, scene, 'image']);
      if (scene.audio.form === 'pair') {
        if (scene.audio.left) uses.push([scene.audio.left, scene, 'left audio']);
        if (scene.audio.right) uses.push([scene.audio.right, scene, 'right audio']);
      } else {
        scene.audio.lines.forEach((l, i) => uses.push([l.media, scene, `line ${i + 1}`]));
      }
    }
  }
  const map = new Map<string, string>();
  // A series uses a few files many times: each distinct path is resolved once (10,000 scenes, ~50 files).
  const once = new Map<string, Promise<string>>();
  const real = (location: string) => {
    let p = once.get(location);
    if (!p) once.set(location, (p = realish(location)));
    return p;
  };
  const resolved = await Promise.all(uses.map(async ([ref]) => (ref.kind === 'file' ? real(ref.location) : undefined)));
  uses.forEach(([ref, scene, role], i) => {
    const real = resolved[i];
    if (real && !map.has(real)) map.set(real, `the ${role} of ${scene.episodeId}/${scene.sceneId}: "${ref.given}"`);
  });
  return map;
}

/** The path with symlinks resolved as far as it exists; the missing tail appended as written. */
async function realish(file: string): Promise<string> {
  const abs = path.resolve(file);
  try {
    return await realpath(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(await realish(parent), path.basename(abs));
  }
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
