import { statSync } from 'node:fs';
import path from 'node:path';
import type { RenderRow } from '../interfaces.ts';

/** Path of a key's clip in the content-addressed store. */
export function clipPath(clipsDir: string, key: string): string {
  return path.join(clipsDir, key.slice(0, 2), `${key}.mp4`);
}

/**
 * Where a complete render's clip is now: at its recorded path, or at its
 * content-addressed place in this cache (a cache moved, restored on a CI
 * runner or mounted elsewhere keeps every hit). Checked by size; `problem`
 * says why it is not there.
 */
export function locateClip(row: Pick<RenderRow, 'key' | 'clip_path' | 'clip_bytes'>, clipsDir?: string): { path: string } | { problem: string } {
  // This cache's own copy first: a recorded path may belong to another cache this one was copied from.
  const candidates = [clipsDir ? clipPath(clipsDir, row.key) : undefined, row.clip_path].filter((p): p is string => Boolean(p));
  let problem = 'clip missing from the store';
  for (const candidate of new Set(candidates)) {
    try {
      const size = statSync(candidate).size;
      if (size === row.clip_bytes) return { path: candidate };
      problem = `clip damaged (size ${size}, recorded ${row.clip_bytes})`;
    } catch {
      /* not here */
    }
  }
  return { problem };
}
