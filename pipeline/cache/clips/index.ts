/**
 * Opening the clip store: this machine's cache dir, or with `s3://bucket/prefix`
 * a bucket shared by every machine (the cache dir then a read-through copy).
 */
import { localClipStore } from './local.ts';
import { parseS3Location } from './s3-config.ts';
import type { ClipStore } from './types.ts';

export type { ClipRow, ClipStore, PublishedClip } from './types.ts';
export { clipPath, locateClip } from './locate.ts';

export async function openClipStore(options: { clipsDir: string; url?: string; env?: NodeJS.ProcessEnv }): Promise<ClipStore> {
  if (options.url === undefined) return localClipStore(options.clipsDir);
  const loc = parseS3Location(options.url, options.env ?? process.env);
  // Loaded only when used: the AWS SDK is large, and most runs keep clips locally.
  const { s3ClipStore } = await import('./s3.ts');
  return s3ClipStore(loc, options.clipsDir);
}
