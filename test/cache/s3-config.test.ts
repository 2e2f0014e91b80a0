import { describe, expect, it } from 'vitest';
import { clipObjectKey, parseS3Location, s3Url } from '../../pipeline/cache/clips/s3-config.ts';
import { DuologueError, redactUrl } from '../../pipeline/errors.ts';

describe('--clips s3://bucket/prefix and the AWS environment', () => {
  it('reads bucket, prefix, endpoint, region and credentials; path-style only with an endpoint', () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'auto' };
    const loc = parseS3Location('s3://studio-clips/nightly/', env);
    expect(loc).toEqual({
      bucket: 'studio-clips',
      prefix: 'nightly/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'auto',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
    expect(clipObjectKey(loc, 'abcdef')).toBe('nightly/clips/ab/abcdef.mp4');
    expect(s3Url(loc, clipObjectKey(loc, 'abcdef'))).toBe('s3://studio-clips/nightly/clips/ab/abcdef.mp4');

    const aws = parseS3Location('s3://studio-clips', {});
    expect(aws).toMatchObject({ prefix: '', endpoint: undefined, region: 'us-east-1', credentials: undefined, forcePathStyle: false });
    expect(parseS3Location('s3://b-1/x', { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://s3-only' }).endpoint).toBe('http://s3-only');
    expect(parseS3Location('s3://b-1/x', { AWS_DEFAULT_REGION: 'eu-west-1', AWS_SESSION_TOKEN: 't', AWS_ACCESS_KEY_ID: 'i', AWS_SECRET_ACCESS_KEY: 's' })).toMatchObject({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'i', secretAccessKey: 's', sessionToken: 't' },
    });
  });

  it('refuses what is not an s3:// URL, or an endpoint that is not http(s), as E_USAGE without echoing it', () => {
    for (const bad of ['https://bucket/x', 's3://', 's3://B_/x', 'bucket/prefix']) {
      const error = (() => {
        try {
          parseS3Location(bad, {});
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(DuologueError);
      expect((error as DuologueError).code).toBe('E_USAGE');
    }
    expect(() => parseS3Location('s3://bucket', { AWS_ENDPOINT_URL: 'ftp://user:pw@host' })).toThrow(/AWS_ENDPOINT_URL/);
    expect(() => parseS3Location('s3://bucket', { AWS_ENDPOINT_URL: 'ftp://user:pw@host' })).not.toThrow(/pw/);
  });

  it('redacts a URL password wherever it appears in a text', () => {
    expect(redactUrl('cannot reach postgres://duologue:p%40ss@db:5432/x?sslmode=require now')).toBe('cannot reach postgres://duologue:***@db:5432/x?sslmode=require now');
    expect(redactUrl('--store=postgresql://u:pw@h/db')).toBe('--store=postgresql://u:***@h/db');
    expect(redactUrl('s3://bucket/prefix and http://host:9000/x')).toBe('s3://bucket/prefix and http://host:9000/x');
  });
});
