/**
 * `--out`: parsing (a folder, or s3://bucket/prefix; bad values are E_USAGE
 * that echo nothing secret) and publishing a stitched episode, verified,
 * to a real S3 server (s3rver) and to a folder.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DuologueError } from '../../../pipeline/errors.ts';
import { episodeOutputName, openEpisodeOutputs, parseOutTarget } from '../../../pipeline/stitch/outputs/index.ts';
import { BUCKET, S3_SECRET, useS3 } from '../../helpers/s3.ts';

const s3 = useS3();
const sha = (bytes: string) => createHash('sha256').update(bytes).digest('hex');

function thrown(fn: () => unknown): DuologueError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DuologueError);
    return error as DuologueError;
  }
  throw new Error('expected an error');
}

/** A stitched episode in a temp file, as a stitcher leaves it. */
function stitched(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'dl-out-')), 'episode.tmp.mp4');
  writeFileSync(file, content);
  return file;
}

describe('--out', () => {
  it('is a folder (resolved against the working folder) or s3://bucket/prefix with the AWS environment', () => {
    expect(parseOutTarget('renders', {}, '/work/show')).toEqual({ kind: 'dir', dir: '/work/show/renders' });
    expect(parseOutTarget('s3://studio-out/nightly/', { AWS_REGION: 'auto' })).toMatchObject({ kind: 's3', location: { bucket: 'studio-out', prefix: 'nightly/', region: 'auto' } });
    expect(parseOutTarget('s3://studio-out', {})).toMatchObject({ kind: 's3', location: { prefix: '' } });
    expect(episodeOutputName('s01e01')).toBe('s01e01.mp4');
  });

  it('refuses another scheme, a bad bucket, a credential in the URL, or a prefix that names something else: E_USAGE naming --out, echoing no secret', () => {
    const cases = ['gs://bucket/x', 'https://bucket.s3.amazonaws.com/x', 's3://', 's3://B_/x', `s3://AKIA:${S3_SECRET}@bucket/x`, 's3://bucket/a/../b', 's3://bucket/a?sig=1', '  '];
    for (const bad of cases) {
      const error = thrown(() => parseOutTarget(bad, {}));
      expect(error.code, bad).toBe('E_USAGE');
      expect(error.message, bad).toMatch(/--out/);
      expect(error.message, bad).not.toContain(S3_SECRET);
    }
    expect(thrown(() => parseOutTarget('s3://bucket/x', { AWS_ENDPOINT_URL: `ftp://u:${S3_SECRET}@h` })).message).not.toContain(S3_SECRET);
  });

  it('s3: uploads the episode under prefix/name, verified; again is a no-op; a new version replaces it; holds tells which is there', async () => {
    const env = s3.env();
    const outputs = await openEpisodeOutputs(parseOutTarget(`s3://${BUCKET}/nightly`, env));
    const client = new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET } });
    try {
      expect(outputs.target('s01e01.mp4')).toBe(`s3://${BUCKET}/nightly/s01e01.mp4`);
      const v1 = { bytes: 9, sha256: sha('episode 1') };
      expect(await outputs.holds('s01e01.mp4', v1)).toBe(false); // nothing there yet
      expect(await outputs.publish('s01e01.mp4', stitched('episode 1'))).toEqual(v1);
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nightly/s01e01.mp4' }));
      expect(await object.Body!.transformToString()).toBe('episode 1');
      expect(object.Metadata?.sha256).toBe(v1.sha256);
      expect(await outputs.holds('s01e01.mp4', v1)).toBe(true);
      // Another worker publishing the same bytes: nothing changes.
      expect(await outputs.publish('s01e01.mp4', stitched('episode 1'))).toEqual(v1);

      // The episode changed: its new version replaces the old one.
      const v2 = { bytes: 17, sha256: sha('episode 1, take 2') };
      expect(await outputs.publish('s01e01.mp4', stitched('episode 1, take 2'))).toEqual(v2);
      expect(await outputs.holds('s01e01.mp4', v1)).toBe(false);
      expect(await outputs.holds('s01e01.mp4', v2)).toBe(true);

      // Someone else's object under the name (no recorded sha256) is not ours, whatever its size.
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'nightly/s01e01.mp4', Body: 'x'.repeat(17) }));
      expect(await outputs.holds('s01e01.mp4', v2)).toBe(false);
    } finally {
      client.destroy();
      await outputs.close();
    }
  });

  it('s3: a server that cannot be reached is E_STORE naming the object, never a credential', async () => {
    const env = { ...s3.env(), AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }; // discard port: nothing listens
    const outputs = await openEpisodeOutputs(parseOutTarget(`s3://${BUCKET}/nightly`, env));
    try {
      const error = await outputs.publish('s01e02.mp4', stitched('episode 2')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_STORE', message: expect.stringContaining(`s3://${BUCKET}/nightly/s01e02.mp4`) });
      expect((error as Error).message).not.toContain(S3_SECRET);
    } finally {
      await outputs.close();
    }
  });

  it('a folder: the temp file is moved into place, hashed; holds re-checks the bytes', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'dl-out-dir-')), 'out');
    const outputs = await openEpisodeOutputs(parseOutTarget(dir, {}));
    const tmp = stitched('episode 3');
    const v = { bytes: 9, sha256: sha('episode 3') };
    expect(outputs.target('s01e03.mp4')).toMatch(new RegExp(`^file://[^/]+${dir}/s01e03\\.mp4$`));
    expect(await outputs.publish('s01e03.mp4', tmp)).toEqual(v);
    expect(existsSync(tmp)).toBe(false);
    expect(readFileSync(path.join(dir, 's01e03.mp4'), 'utf8')).toBe('episode 3');
    expect(await outputs.holds('s01e03.mp4', v)).toBe(true);
    writeFileSync(path.join(dir, 's01e03.mp4'), 'episode 3'.toUpperCase()); // same size, other bytes
    expect(await outputs.holds('s01e03.mp4', v)).toBe(false);
    expect(await outputs.holds('missing.mp4', v)).toBe(false);
    // An episode's own `output:` (absolute) goes where it says, its folder made.
    const own = path.join(path.dirname(dir), 'renders', 'pilot.mp4');
    expect(await outputs.publish(own, stitched('episode 3'))).toEqual(v);
    expect(readFileSync(own, 'utf8')).toBe('episode 3');
    expect(outputs.target(own)).toMatch(new RegExp(`^file://[^/]+${own}$`));
  });
});
