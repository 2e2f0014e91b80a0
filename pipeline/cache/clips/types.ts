/**
 * Where complete clips live: the cache dir of this machine, or an
 * S3-compatible bucket shared by many (the cache dir is then a read-through
 * copy). The renders table holds each clip's size and sha256; a store only
 * counts a clip that matches them.
 */
import type { RenderRow } from '../interfaces.ts';

/** What a store needs of a render's row to judge its clip. */
export type ClipRow = Pick<RenderRow, 'key' | 'clip_path' | 'clip_bytes' | 'clip_sha256'>;

export interface PublishedClip {
  bytes: number;
  sha256: string;
}

export interface ClipStore {
  /** Where this store is, for messages (an S3 URL; never a secret). */
  readonly location: string;
  /** The local folder clips are downloaded into and read from (`<cacheDir>/clips`). */
  readonly clipsDir: string;
  /** Whether clips are shared beyond this machine (publish does work). */
  readonly shared: boolean;
  /**
   * Makes the clip at `localPath` the key's clip for every machine, once:
   * a different clip already under the key is an E_STORE error, never overwritten.
   */
  publish(key: string, localPath: string, signal?: AbortSignal): Promise<PublishedClip>;
  /**
   * A complete render's clip as a local file whose size (and, when
   * downloaded, sha256) matches its row; `problem` when the store proves it
   * missing or damaged. A store that cannot be reached throws E_STORE
   * (it proves nothing: the render stays complete).
   */
  fetch(row: ClipRow, signal?: AbortSignal): Promise<{ path: string } | { problem: string }>;
  /** Why a recorded clip is unusable (undefined: it is here, or can be fetched). */
  problem(row: ClipRow, signal?: AbortSignal): Promise<string | undefined>;
  close(): Promise<void>;
}
