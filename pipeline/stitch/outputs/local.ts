/**
 * Episode outputs in a folder of this machine: the stitched temp file is
 * renamed into place (so a reader never sees half a file), hashed first so
 * the stitch claim can record what was written.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { DuologueError } from '../../errors.ts';
import { sha256File } from '../../media/hash.ts';
import { tempTag } from '../../temp-tag.ts';
import type { EpisodeOutputs } from './types.ts';

/** `name` is relative to `dir`, or absolute (an episode's own `output:`). */
export function localEpisodeOutputs(dir: string): EpisodeOutputs {
  const file = (name: string) => path.resolve(dir, name);
  return {
    location: dir,
    // Another machine's folder of the same path is another output: it is stitched there too.
    target: (name) => `file://${hostname()}${file(name)}`,
    async publish(name, localPath, signal) {
      try {
        const published = { bytes: (await stat(localPath)).size, sha256: await sha256File(localPath, signal) };
        await mkdir(path.dirname(file(name)), { recursive: true });
        await moveInto(localPath, file(name));
        return published;
      } catch (cause) {
        if (signal?.aborted) throw cause;
        throw new DuologueError('E_USAGE', `episode ${file(name)} could not be written: ${(cause as Error).message}`, { cause });
      }
    },
    async holds(name, expected, signal) {
      try {
        if ((await stat(file(name))).size !== expected.bytes) return false;
        return (await sha256File(file(name), signal)) === expected.sha256;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
    async close() {},
  };
}

/** Renames; across file systems (a temp folder elsewhere) copies beside the destination first, then renames. */
async function moveInto(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const beside = `${to}.${tempTag()}.part`;
    try {
      await copyFile(from, beside);
      await rename(beside, to);
    } finally {
      await rm(beside, { force: true });
    }
    await rm(from, { force: true });
  }
}
