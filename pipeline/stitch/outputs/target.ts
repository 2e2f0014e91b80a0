/**
 * `--out`: a folder, or `s3://bucket/prefix` (with the standard AWS
 * environment, as `--clips`). Checked up front, before any work; a bad value
 * is E_USAGE naming the option, without echoing what it held (a URL may
 * carry credentials).
 */
import path from 'node:path';
import { DuologueError } from '../../errors.ts';
import { parseS3Location, type S3Location } from '../../cache/clips/s3-config.ts';

export type OutTarget = { kind: 'dir'; dir: string } | { kind: 's3'; location: S3Location };

export function parseOutTarget(value: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): OutTarget {
  const trimmed = value.trim();
  if (trimmed === '') throw new DuologueError('E_USAGE', 'Expected `--out` to be a folder or s3://bucket/prefix, got an empty value');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1];
  if (scheme === undefined) return { kind: 'dir', dir: path.resolve(cwd, trimmed) };
  if (scheme.toLowerCase() !== 's3') {
    throw new DuologueError('E_USAGE', `Expected \`--out\` to be a folder or s3://bucket/prefix, got a ${scheme}:// URL`);
  }
  const location = parseS3Location(trimmed, env, '--out');
  // Object names are built from the prefix: a query, a fragment or a `..` step would name something else.
  if (/[?#]/.test(location.prefix) || location.prefix.split('/').some((step) => step === '..' || step === '.')) {
    throw new DuologueError('E_USAGE', `Expected \`--out\` s3://${location.bucket}/… to have a plain prefix (no "?", "#", "." or ".." steps)`);
  }
  return { kind: 's3', location };
}
