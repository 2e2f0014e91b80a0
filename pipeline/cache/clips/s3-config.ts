import { DuologueError } from '../../errors.ts';

/** Where and how to reach a bucket: `s3://bucket/prefix` plus the standard AWS environment. */
export interface S3Location {
  bucket: string;
  /** '' or ending in '/'. */
  prefix: string;
  /** AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (R2, MinIO, a test server); undefined for AWS itself. */
  endpoint?: string;
  region: string;
  /** From the environment when both keys are set; else the SDK's own chain (profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Bucket in the path, not the host name: what MinIO, s3rver and most non-AWS servers need. */
  forcePathStyle: boolean;
}

/** Parses `--clips` / DUOLOGUE_CLIPS (or, naming it in messages, another option's s3:// URL: `--out`). */
export function parseS3Location(url: string, env: NodeJS.ProcessEnv, option = '--clips'): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/i.exec(url.trim());
  if (!m) {
    throw new DuologueError('E_USAGE', `Expected \`${option}\` to be s3://bucket or s3://bucket/prefix, got \`${url.split('://')[0]}://…\``);
  }
  const bucket = m[1]!;
  const rest = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined && !/^https?:\/\//i.test(endpoint)) {
    throw new DuologueError('E_USAGE', `Expected \`AWS_ENDPOINT_URL\` to be an http(s):// URL, got \`${endpoint.split('://')[0]}…\``);
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    bucket,
    prefix: rest ? `${rest}/` : '',
    endpoint,
    // Non-AWS servers mostly ignore the region, but the signature needs one.
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } : undefined,
    forcePathStyle: endpoint !== undefined,
  };
}

/** The object of a key's clip. */
export function clipObjectKey(loc: Pick<S3Location, 'prefix'>, key: string): string {
  return `${loc.prefix}clips/${key.slice(0, 2)}/${key}.mp4`;
}

export function s3Url(loc: Pick<S3Location, 'bucket' | 'prefix'>, objectKey?: string): string {
  return objectKey === undefined ? `s3://${loc.bucket}/${loc.prefix}` : `s3://${loc.bucket}/${objectKey}`;
}
