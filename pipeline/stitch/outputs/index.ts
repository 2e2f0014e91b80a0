/** Opening `--out`: a folder here, or a bucket (the AWS SDK loaded only then). */
import { localEpisodeOutputs } from './local.ts';
import type { OutTarget } from './target.ts';
import type { EpisodeOutputs } from './types.ts';

export type { EpisodeOutputs, PublishedFile } from './types.ts';
export { episodeOutputName } from './types.ts';
export { parseOutTarget, type OutTarget } from './target.ts';

export async function openEpisodeOutputs(target: OutTarget): Promise<EpisodeOutputs> {
  if (target.kind === 'dir') return localEpisodeOutputs(target.dir);
  const { s3EpisodeOutputs } = await import('./s3.ts');
  return s3EpisodeOutputs(target.location);
}
