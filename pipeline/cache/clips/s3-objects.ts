/**
 * Files published to an S3-compatible bucket, verified: the object is looked
 * at before and after a conditional put, and only an object whose size and
 * sha256 (recorded in its metadata) are the file's counts. Some servers
 * (s3rver, older MinIO) ignore If-None-Match / If-Match, so the looks are the
 * guard, not the condition. Shared by the clip store (written once, by cache
 * key) and episode outputs (by name, replacing an older version).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuologueError } from '../../errors.ts';
import { sha256File } from '../../media/hash.ts';
import { s3Url, type S3Location } from './s3-config.ts';

/** What a published file is known by. */
export interface PublishedFile {
  bytes: number;
  sha256: string;
}

export interface ObjectHead {
  bytes: number;
  /** From the object's metadata (x-amz-meta-sha256); undefined when someone else wrote it without. */
  sha256?: string;
  etag?: string;
}

export interface PublishOptions {
  /** What the file is, for messages ('clip', 'episode'). */
  what: string;
  signal?: AbortSignal;
  /** @default 'video/mp4' */
  contentType?: string;
  /**
   * Whether another object already under the name may be replaced (only the
   * version looked at: If-Match its ETag). @default false: written once
   */
  replace?: boolean;
  /** The error for an object that holds something else (and may not be, or was meanwhile, replaced). */
  conflict: (objectKey: string, found: ObjectHead, file: PublishedFile) => DuologueError;
}

export interface S3Objects {
  readonly client: S3Client;
  head(objectKey: string, signal?: AbortSignal): Promise<ObjectHead | undefined>;
  /** Puts the file at `localPath` under `objectKey` and checks it landed; resolves to its size and sha256. */
  publish(objectKey: string, localPath: string, options: PublishOptions): Promise<PublishedFile>;
  /** Any failure talking to the bucket, as E_STORE naming the object (never a credential). */
  storeError(what: string, objectKey: string, cause: unknown): DuologueError;
  close(): void;
}

export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function isNotFound(error: unknown): boolean {
  const name = (error as Error)?.name;
  return httpStatus(error) === 404 || name === 'NotFound' || name === 'NoSuchKey';
}

export function s3Objects(loc: S3Location): S3Objects {
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

  const storeError = (what: string, objectKey: string, cause: unknown): DuologueError => {
    if (cause instanceof DuologueError) return cause;
    const detail = (cause as Error)?.message || (cause as Error)?.name || String(cause);
    return new DuologueError('E_STORE', `${what} ${s3Url(loc, objectKey)} failed: ${detail}`, { cause });
  };

  async function head(objectKey: string, signal?: AbortSignal): Promise<ObjectHead | undefined> {
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: objectKey }), { abortSignal: signal });
      return { bytes: Number(h.ContentLength ?? -1), sha256: h.Metadata?.sha256, etag: h.ETag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (signal?.aborted) throw error;
      throw storeError('looking at', objectKey, error);
    }
  }

  const same = (h: ObjectHead, file: PublishedFile) => h.bytes === file.bytes && h.sha256 === file.sha256;

  async function publish(objectKey: string, localPath: string, options: PublishOptions): Promise<PublishedFile> {
    const { signal, conflict } = options;
    let file: PublishedFile;
    try {
      file = { bytes: (await stat(localPath)).size, sha256: await sha256File(localPath, signal) };
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new DuologueError('E_STORE', `${options.what} ${localPath} could not be read: ${(cause as Error).message}`, { cause });
    }
    const before = await head(objectKey, signal);
    if (before) {
      if (same(before, file)) return file; // published already (an earlier run, or another machine)
      if (!options.replace) throw conflict(objectKey, before, file);
    }
    try {
      // Streamed from the file: the sha256 was computed above, so the body need not be held in memory.
      await client.send(
        new PutObjectCommand({
          Bucket: loc.bucket,
          Key: objectKey,
          Body: createReadStream(localPath),
          ContentLength: file.bytes,
          ContentType: options.contentType ?? 'video/mp4',
          ChecksumSHA256: Buffer.from(file.sha256, 'hex').toString('base64'),
          Metadata: { sha256: file.sha256 },
          // Written once, or replacing only the version looked at (not one another writer put meanwhile).
          ...(before?.etag ? { IfMatch: before.etag } : { IfNoneMatch: '*' }),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      // 412/409: another writer got there first; what it wrote is judged below like any object.
      const s = httpStatus(error);
      if (s !== 412 && s !== 409) {
        if (signal?.aborted) throw error;
        throw storeError('uploading', objectKey, error);
      }
    }
    const after = await head(objectKey, signal);
    if (!after) throw new DuologueError('E_STORE', `${s3Url(loc, objectKey)} is not there after its upload; the ${options.what} is not counted`);
    if (!same(after, file)) throw conflict(objectKey, after, file);
    return file;
  }

  return { client, head, publish, storeError, close: () => client.destroy() };
}
