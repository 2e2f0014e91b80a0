/**
 * A real S3 protocol server for a test file: `useS3()` starts s3rver on a
 * free loopback port, its objects in a folder under the file's temp root,
 * with one bucket; `env()` is the standard AWS environment that reaches it.
 * Nothing leaves the machine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';

export const BUCKET = 'duologue-clips';
/** s3rver's one account; a secret the tests look for in messages. */
export const S3_SECRET = 'S3RVER';

export interface TestS3 {
  /** AWS_ENDPOINT_URL and credentials for this server. */
  env(): NodeJS.ProcessEnv;
  /** The folder s3rver keeps objects in (tests damage objects there). */
  directory(): string;
  port(): number;
}

export async function startS3(): Promise<{ server: S3rver; port: number; directory: string }> {
  const directory = mkdtempSync(path.join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const address = await server.run();
  return { server, port: address.port, directory };
}

export function useS3(): TestS3 {
  let started: Awaited<ReturnType<typeof startS3>> | undefined;
  beforeAll(async () => {
    started = await startS3();
  });
  afterAll(async () => {
    await started?.server.close();
  });
  const get = () => {
    if (!started) throw new Error('useS3(): the server is not started (use it inside a test)');
    return started;
  };
  return {
    env: () => ({
      AWS_ENDPOINT_URL: `http://127.0.0.1:${get().port}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: S3_SECRET,
      AWS_REGION: 'us-east-1',
    }),
    directory: () => get().directory,
    port: () => get().port,
  };
}
