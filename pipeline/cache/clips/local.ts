import { stat } from 'node:fs/promises';
import { DuologueError } from '../../errors.ts';
import { sha256File } from '../../media/hash.ts';
import { locateClip } from './locate.ts';
import type { ClipRow, ClipStore, PublishedClip } from './types.ts';

/** Today's store: the clips are the files in this machine's cache dir. */
export function localClipStore(clipsDir: string): ClipStore {
  return {
    location: clipsDir,
    clipsDir,
    shared: false,
    async publish(_key: string, localPath: string, signal?: AbortSignal): Promise<PublishedClip> {
      try {
        const { size } = await stat(localPath);
        return { bytes: size, sha256: await sha256File(localPath, signal) };
      } catch (cause) {
        if (signal?.aborted) throw cause;
        throw new DuologueError('E_STORE', `clip ${localPath} could not be read: ${(cause as Error).message}`, { cause });
      }
    },
    async fetch(row: ClipRow) {
      return locateClip(row, clipsDir);
    },
    async problem(row: ClipRow) {
      const found = locateClip(row, clipsDir);
      return 'problem' in found ? found.problem : undefined;
    },
    async close() {},
  };
}
