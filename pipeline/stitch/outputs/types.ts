/**
 * Where finished episodes go: a folder on this machine (`--out DIR`), or an
 * S3-compatible bucket shared by every worker (`--out s3://bucket/prefix`).
 * An episode is stitched into a local temp file first; `publish` makes it
 * the episode's output, verified (size + sha256).
 */
import type { PublishedFile } from '../../cache/clips/s3-objects.ts';

export type { PublishedFile };

export interface EpisodeOutputs {
  /** Where the outputs go, for messages (a folder, or an s3:// URL; never a secret). */
  readonly location: string;
  /**
   * Where the output `name` goes, as one worker on any machine would name it:
   * the stitch claim's fingerprint includes it, so a folder's path carries its
   * host (another machine's folder is another output), a bucket's URL does not.
   */
  target(name: string): string;
  /** Makes the stitched file at `localPath` the output `name` (it is moved or uploaded); resolves to what it holds. */
  publish(name: string, localPath: string, signal?: AbortSignal): Promise<PublishedFile>;
  /** Whether the output `name` still holds this file (a recorded "written" is trusted only then). */
  holds(name: string, file: PublishedFile, signal?: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

/** The object (or file) name of an episode's output under `--out`: its id, which is unique in a run and safe in a URL. */
export function episodeOutputName(episodeId: string): string {
  return `${episodeId}.mp4`;
}
