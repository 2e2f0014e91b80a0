/**
 * Clips in an S3-compatible bucket (AWS S3, R2, MinIO), content-addressed by
 * cache key; this machine's cache dir is a read-through copy. A clip is
 * written once: the object is looked at before and after the (conditional)
 * put, and only an object whose size and sha256 are the clip's counts — some
 * servers (s3rver, older MinIO) ignore If-None-Match, so the looks are the
 * guard, not the condition. A download counts only once its bytes hash to
 * what the renders table recorded.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuologueError } from '../../errors.ts';
import { sha256File } from '../../media/hash.ts';
import { tempTag } from '../../temp-tag.ts';
import { clipPath, locateClip } from './locate.ts';
import { clipObjectKey, s3Url, type S3Location } from './s3-config.ts';
import type { ClipRow, ClipStore, PublishedClip } from './types.ts';

interface Head {
  bytes: number;
  /** From the object's metadata (x-amz-meta-sha256); undefined when someone else wrote it without. */
  sha256?: string;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as Error)?.name;
  return status(error) === 404 || name === 'NotFound' || name === 'NoSuchKey';
}

export function s3ClipStore(loc: S3Location, clipsDir: string): ClipStore {
  // The SDK warns once per process that its releases after January 2027 need Node 22: noise on every run, not a fault.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({
    region: loc.region,
    endpoint: loc.endpoint,
    forcePathStyle: loc.forcePathStyle,
    credentials: loc.credentials,
    // Checksums only where the API requires them: many S3-compatible servers do not speak the
    // SDK's default trailing CRC (aws-chunked); the sha256 this store sends is its own, in a header.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const location = s3Url(loc);

  /** Any failure talking to the bucket, as E_STORE naming the object (never a credential). */
  const storeError = (what: string, objectKey: string, cause: unknown): DuologueError => {
    if (cause instanceof DuologueError) return cause;
    const detail = (cause as Error)?.message || (cause as Error)?.name || String(cause);
    return new DuologueError('E_STORE', `${what} ${s3Url(loc, objectKey)} failed: ${detail}`, { cause });
  };

  async function head(objectKey: string, signal?: AbortSignal): Promise<Head | undefined> {
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: objectKey }), { abortSignal: signal });
      return { bytes: Number(h.ContentLength ?? -1), sha256: h.Metadata?.sha256 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (signal?.aborted) throw error;
      throw storeError('looking at', objectKey, error);
    }
  }

  /**
   * This machine's copy, at its content-addressed place only: the path a row records is the path on
   * whichever machine rendered it (on a shared host it may even exist, and be another cache's file).
   */
  const local = (row: ClipRow) => locateClip({ ...row, clip_path: null }, clipsDir);

  const same = (h: Head, clip: PublishedClip) => h.bytes === clip.bytes && h.sha256 === clip.sha256;

  function conflict(objectKey: string, h: Head, clip: PublishedClip): DuologueError {
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
      const objectKey = clipObjectKey(loc, key);
      let clip: PublishedClip;
      try {
        clip = { bytes: (await stat(localPath)).size, sha256: await sha256File(localPath, signal) };
      } catch (cause) {
        if (signal?.aborted) throw cause;
        throw new DuologueError('E_STORE', `clip ${localPath} could not be read: ${(cause as Error).message}`, { cause });
      }
      const before = await head(objectKey, signal);
      if (before) {
        if (same(before, clip)) return clip; // published already (an earlier run, or another machine)
        throw conflict(objectKey, before, clip);
      }
      try {
        // Streamed from the file: the sha256 was computed above, so the body need not be held in memory.
        await client.send(
          new PutObjectCommand({
            Bucket: loc.bucket,
            Key: objectKey,
            Body: createReadStream(localPath),
            ContentLength: clip.bytes,
            ContentType: 'video/mp4',
            ChecksumSHA256: Buffer.from(clip.sha256, 'hex').toString('base64'),
            Metadata: { sha256: clip.sha256 },
            IfNoneMatch: '*',
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        // 412/409: another writer got there first; what it wrote is judged below like any object.
        const s = status(error);
        if (s !== 412 && s !== 409) {
          if (signal?.aborted) throw error;
          throw storeError('uploading', objectKey, error);
        }
      }
      const after = await head(objectKey, signal);
      if (!after) throw new DuologueError('E_STORE', `${s3Url(loc, objectKey)} is not there after its upload; the clip is not counted`);
      if (!same(after, clip)) throw conflict(objectKey, after, clip);
      return clip;
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
      client.destroy();
    },
  };
}
