import { sha256Text } from '../media/hash.ts';

/** Bump to invalidate every cached render (e.g. if the key's meaning changes). */
export const CACHE_KEY_VERSION = 1;

export interface CacheKeyInput {
  provider: string;
  model: string;
  imageSha256: string;
  /** trackIdentity() of each side: the bytes as sent. */
  left: string;
  right: string;
  prompt: string;
  order: string;
  resolution: string;
  seed: number;
}

/**
 * sha256 of a canonical JSON (fixed key order) of everything that changes the
 * rendered clip, and nothing that does not: never paths, URLs or mtimes, so a
 * renamed file keeps its hits and one changed byte misses.
 */
export function cacheKey(input: CacheKeyInput): string {
  const canonical = JSON.stringify([
    CACHE_KEY_VERSION,
    input.provider,
    input.model,
    input.imageSha256,
    input.left,
    input.right,
    input.prompt,
    input.order,
    input.resolution,
    input.seed,
  ]);
  return sha256Text(canonical);
}
