/**
 * Clips in an S3-compatible bucket (AWS S3, R2, MinIO), content-addressed by
 * cache key; this machine's cache dir is a read-through copy. A clip is
 * written once, verified (s3-objects.ts). A download counts only once its
 * bytes hash to what the renders table recorded.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DuologueError } from '../../errors.ts';
import { tempTag } from '../../temp-tag.ts';
import { clipPath, locateClip } from './locate.ts';
import { clipObjectKey, s3Url, type S3Location } from './s3-config.ts';
import { isNotFound, s3Objects, type ObjectHead } from './s3-objects.ts';
import type { ClipRow, ClipStore, PublishedClip } from './types.ts';

export function s3ClipStore(loc: S3Location, clipsDir: string): ClipStore {
  const objects = s3Objects(loc);
  const { client, head, storeError } = objects;
  const location = s3Url(loc);

  /**
   * This machine's copy, at its content-addressed place only: the path a row records is the path on
   * whichever machine rendered it (on a shared host it may even exist, and be another cache's file).
   */
  const local = (row: ClipRow) => locateClip({ ...row, clip_path: null }, clipsDir);

  function conflict(objectKey: string, h: ObjectHead, clip: PublishedClip): DuologueError {
    return new DuologueError(
      'E_STORE',
      `${s3Url(loc, objectKey)} already holds another clip (${h.bytes} bytes, sha256 ${h.sha256 ?? 'not recorded'}; this one: ${clip.bytes} bytes, sha256 ${clip.sha256}); ` +
        'clips are written once, so it is not replaced. If that object is damaged, delete it and run again (the render is kept in flight and collected at no charge)',
    );
  }

  return {
    location,
    clipsDir,
    shared: true,
    async publish(key, localPath, signal) {
      // Written once: a different clip already under the key is refused, never overwritten.
      return objects.publish(clipObjectKey(loc, key), localPath, { what: 'clip', signal, conflict });
    },

    async fetch(row, signal) {
      const here = local(row);
      if ('path' in here) return here;
      const objectKey = clipObjectKey(loc, row.key);
      const dest = clipPath(clipsDir, row.key);
      // A name `cache gc` knows for a temp file, with this process's pid: a crash mid-download leaves nothing that looks like a clip.
      const part = `${dest}.${tempTag()}.download`;
      const hash = createHash('sha256');
      let bytes = 0;
      try {
        let body;
        try {
          body = (await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: objectKey }), { abortSignal: signal })).Body;
        } catch (error) {
          if (isNotFound(error)) return { problem: `clip missing from the cache and from ${s3Url(loc, objectKey)}` };
          throw error;
        }
        if (!body) throw new Error('empty answer');
        await mkdir(path.dirname(dest), { recursive: true });
        const count = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(body as Readable, count, createWriteStream(part), { signal });
        const sha256 = hash.digest('hex');
        if (bytes !== row.clip_bytes || (row.clip_sha256 !== null && sha256 !== row.clip_sha256)) {
          await rm(part, { force: true });
          return { problem: `clip in ${s3Url(loc, objectKey)} damaged (${bytes} bytes, sha256 ${sha256}; recorded ${row.clip_bytes} bytes, sha256 ${row.clip_sha256})` };
        }
        await rename(part, dest);
        return { path: dest };
      } catch (error) {
        await rm(part, { force: true });
        if (signal?.aborted) throw error;
        throw storeError('downloading', objectKey, error);
      }
    },

    async problem(row: ClipRow, signal?: AbortSignal) {
      if ('path' in local(row)) return undefined;
      const objectKey = clipObjectKey(loc, row.key);
      const h = await head(objectKey, signal);
      if (!h) return `clip missing from the cache and from ${s3Url(loc, objectKey)}`;
      if (h.bytes !== row.clip_bytes || (h.sha256 !== undefined && row.clip_sha256 !== null && h.sha256 !== row.clip_sha256)) {
        return `clip in ${s3Url(loc, objectKey)} damaged (${h.bytes} bytes, recorded ${row.clip_bytes})`;
      }
      return undefined;
    },

    async close() {
      objects.close();
    },
  };
}
