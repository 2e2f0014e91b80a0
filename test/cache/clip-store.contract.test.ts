/**
 * The clip store's contract, on both backends: this machine's cache dir,
 * and a real S3 server (s3rver) with a read-through cache dir. A clip counts
 * only when its size and sha256 match what the renders table recorded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { DuologueError } from '../../pipeline/errors.ts';
import { clipPath, openClipStore, type ClipRow, type ClipStore } from '../../pipeline/cache/clips/index.ts';
import { clipObjectKey, parseS3Location } from '../../pipeline/cache/clips/s3-config.ts';
import { BUCKET, S3_SECRET, useS3 } from '../helpers/s3.ts';

const s3 = useS3();
let prefixes = 0;

interface Backend {
  name: string;
  /** A store on a fresh cache dir (and, for S3, a fresh prefix of the bucket). */
  open(): Promise<ClipStore>;
  /** Replaces the stored clip's bytes with others of the same length (a bit rot the size cannot see). */
  corrupt(store: ClipStore, key: string): Promise<void>;
}

const backends: Backend[] = [
  {
    name: 'local cache dir',
    open: async () => openClipStore({ clipsDir: path.join(await mkdtemp(path.join(tmpdir(), 'clips-')), 'clips') }),
    async corrupt(store, key) {
      // The local store judges by size (hashing every hit would re-read every clip on every plan).
      truncateSync(clipPath(store.clipsDir, key), 10);
    },
  },
  {
    name: 's3 (s3rver)',
    open: async () =>
      openClipStore({ clipsDir: path.join(await mkdtemp(path.join(tmpdir(), 'clips-')), 'clips'), url: `s3://${BUCKET}/run${++prefixes}`, env: s3.env() }),
    async corrupt(store, key) {
      const loc = parseS3Location(store.location, s3.env());
      const objectKey = clipObjectKey(loc, key);
      const client = new S3Client({ region: 'us-east-1', endpoint: loc.endpoint, forcePathStyle: true, credentials: loc.credentials });
      const good = readFileSync(clipPath(store.clipsDir, key));
      const bad = Buffer.from(good);
      bad[0] = bad[0]! ^ 0xff; // same length, other bytes; its metadata still claims the original's sha256
      const claimed = createHash('sha256').update(good).digest('hex');
      await client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: objectKey, Body: bad, Metadata: { sha256: claimed } }));
      client.destroy();
      rmSync(clipPath(store.clipsDir, key)); // this machine's copy gone: the next fetch downloads
    },
  },
];

const opened: ClipStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function setUp(backend: Backend) {
  const store = await backend.open();
  opened.push(store);
  const key = randomBytes(32).toString('hex');
  const bytes = randomBytes(4096);
  const file = clipPath(store.clipsDir, key);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return { store, key, bytes, file };
}

function rowOf(key: string, file: string, published: { bytes: number; sha256: string }): ClipRow {
  return { key, clip_path: file, clip_bytes: published.bytes, clip_sha256: published.sha256 };
}

for (const backend of backends) {
  describe(`clip store: ${backend.name}`, () => {
    it('publishes a clip with its size and sha256, and gives it back whole', async () => {
      const { store, key, bytes, file } = await setUp(backend);
      const published = await store.publish(key, file);
      expect(published).toEqual({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      const row = rowOf(key, file, published);
      if (store.shared) rmSync(file); // another machine: nothing in its cache dir yet
      expect(await store.problem(row)).toBeUndefined();
      const got = await store.fetch(row);
      expect('path' in got && readFileSync(got.path).equals(bytes)).toBe(true);
    });

    it('publishing the same clip again is a no-op', async () => {
      const { store, key, file } = await setUp(backend);
      const first = await store.publish(key, file);
      expect(await store.publish(key, file)).toEqual(first);
    });

    it('a damaged clip is never used', async () => {
      const { store, key, file } = await setUp(backend);
      const row = rowOf(key, file, await store.publish(key, file));
      await backend.corrupt(store, key);
      const got = await store.fetch(row);
      expect(got).toEqual({ problem: expect.stringMatching(/damaged/) });
      // Nothing half-downloaded is left where a later look would take it for the clip.
      if (store.shared) expect(existsSync(clipPath(store.clipsDir, key))).toBe(false);
    });

    it('a clip that was never published is missing, not an error', async () => {
      const { store, key, file } = await setUp(backend);
      rmSync(file);
      const row: ClipRow = { key, clip_path: file, clip_bytes: 4096, clip_sha256: 'ab'.repeat(32) };
      expect(await store.problem(row)).toMatch(/missing/);
      expect(await store.fetch(row)).toEqual({ problem: expect.stringMatching(/missing/) });
    });
  });
}

describe('clip store: s3 write-once', () => {
  it('refuses a different clip under a key that holds one, naming the object to delete', async () => {
    const { store, key, file } = await setUp(backends[1]!);
    await store.publish(key, file);
    await writeFile(file, randomBytes(4096));
    const error = await store.publish(key, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuologueError);
    expect((error as DuologueError).code).toBe('E_STORE');
    expect((error as Error).message).toContain(`s3://${BUCKET}/run${prefixes}/clips/${key.slice(0, 2)}/${key}.mp4`);
    expect((error as Error).message).toMatch(/delete it/);
    expect((error as Error).message).not.toContain(S3_SECRET);
  });

  it('an unreachable server is E_STORE, not a missing clip (a miss would pay again)', async () => {
    const store = await openClipStore({
      clipsDir: path.join(await mkdtemp(path.join(tmpdir(), 'clips-')), 'clips'),
      url: `s3://${BUCKET}/x`,
      env: { ...s3.env(), AWS_ENDPOINT_URL: 'http://127.0.0.1:1' },
    });
    opened.push(store);
    const row: ClipRow = { key: 'ab'.repeat(32), clip_path: null, clip_bytes: 1, clip_sha256: 'cd'.repeat(32) };
    const error = await store.problem(row).catch((e: unknown) => e);
    expect((error as DuologueError).code).toBe('E_STORE');
  });
});
