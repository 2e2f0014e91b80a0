/**
 * `render --out s3://bucket/prefix` on one machine with the embedded store
 * (SQLite, clips in the cache dir): the episode is uploaded to
 * `<prefix>/<id>.mp4`, byte for byte what `--out DIR` writes, the summary and
 * the report (in `<cache>/report`) name its URL; a second run finds it
 * written and uploads nothing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { BUCKET, S3_SECRET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const s3 = useS3();

describe('render --out s3://', () => {
  it('one machine, embedded store: the episode in the bucket is the folder run\'s bytes; the report names its URL; a rerun uploads nothing', { timeout: 150_000 }, async () => {
    const { manifest } = tinyProject();
    const cache = path.join(mkdtempSync(path.join(tmpdir(), 'dl-out-s3-')), 'cache');
    const folder = path.join(path.dirname(cache), 'out');
    const local = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cache, '--out', folder, '--json', '--no-report']);
    expect(local.code, local.stderr).toBe(0);

    const url = `s3://${BUCKET}/solo/night`;
    const env = s3.env();
    const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cache, '--out', url, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { episodes: { id: string; status: string; output: string }[] };
    expect(summary.episodes).toEqual([{ id: 'ep1', status: 'complete', output: `${url}/ep1.mp4` }]);
    const client = new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET } });
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'solo/night/ep1.mp4' }));
      expect(Buffer.from(await object.Body!.transformToByteArray()).equals(readFileSync(path.join(folder, 'ep1.mp4')))).toBe(true);
      const before = (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'solo/night/ep1.mp4' }))).LastModified;

      // The report is this machine's, in the cache dir; it names the episode's URL.
      const report = JSON.parse(readFileSync(path.join(cache, 'report', 'report.json'), 'utf8')) as { episodes: { id: string; video: string | null }[] };
      expect(report.episodes.map((e) => [e.id, e.video])).toEqual([['ep1', `${url}/ep1.mp4`]]);
      expect(readFileSync(path.join(cache, 'report', 'report.html'), 'utf8')).toContain(`Written to <code>${url}/ep1.mp4</code>`);

      // Nothing changed: found written (by this machine's earlier run), not stitched or uploaded again.
      await new Promise((r) => setTimeout(r, 1_100)); // LastModified has one-second resolution
      const again = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cache, '--out', url, '--json', '--no-report'], env);
      expect(again.code, again.stderr).toBe(0);
      const episode = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; reason?: string }).find((e) => e.type === 'episode')!;
      expect(episode.reason).toMatch(/^up to date: written on .+ at \d{4}-/);
      expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'solo/night/ep1.mp4' }))).LastModified).toEqual(before);
    } finally {
      client.destroy();
    }
  });
});
