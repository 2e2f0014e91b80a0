/**
 * Episode outputs in a bucket, `<prefix><name>`, published through the
 * clips' verified put (cache/clips/s3-objects.ts). Unlike a clip, an
 * episode's object is named, not content-addressed: a changed episode
 * replaces its older version, but only the version looked at (If-Match), and
 * only an object that ends up holding this file's size and sha256 counts.
 * Who may publish at all is decided before: the episode's stitch claim.
 */
import { DuologueError } from '../../errors.ts';
import { s3Url, type S3Location } from '../../cache/clips/s3-config.ts';
import { s3Objects, type ObjectHead, type PublishedFile } from '../../cache/clips/s3-objects.ts';
import type { EpisodeOutputs } from './types.ts';

export function s3EpisodeOutputs(loc: S3Location): EpisodeOutputs {
  const objects = s3Objects(loc);
  const objectKey = (name: string) => `${loc.prefix}${name}`;

  const conflict = (key: string, found: ObjectHead, file: PublishedFile) =>
    new DuologueError(
      'E_STORE',
      `${s3Url(loc, key)} was written by someone else while this episode was published (it holds ${found.bytes} bytes, sha256 ${found.sha256 ?? 'not recorded'}; ` +
        `this one: ${file.bytes} bytes, sha256 ${file.sha256}); it is not counted as written`,
    );

  return {
    location: s3Url(loc),
    target: (name) => s3Url(loc, objectKey(name)),
    publish: (name, localPath, signal) => objects.publish(objectKey(name), localPath, { what: 'episode', signal, replace: true, conflict }),
    async holds(name, file, signal) {
      const head = await objects.head(objectKey(name), signal);
      return head !== undefined && head.bytes === file.bytes && head.sha256 === file.sha256;
    },
    async close() {
      objects.close();
    },
  };
}
