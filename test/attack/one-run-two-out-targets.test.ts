/**
 * Attack (issue 13): two workers of one named run with different `--out`
 * targets (a bucket prefix, and a folder of the second machine). Each target
 * is its own output: both must end up holding the episode, each exactly as
 * its stitch row records, and the two files the same bytes; every key paid once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { query, useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();

const MANIFEST = `version: 1
defaults: { image: two-people.png, prompt: two targets }
episodes:
${[1, 2]
  .map((e) => `  - id: ep${e}\n    scenes:\n${[1, 2].map((i) => `      - { id: s${i}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${e * 10 + i} }`).join('\n')}`)
  .join('\n')}
`;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('attack: one run, two workers with different --out targets', () => {
  it('each target holds every episode as recorded, the same bytes, every key paid once', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 20 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/clips` };
    const run = ['--run', 'two-targets'];
    const bucketed = worker('machine-bucket', manifest, env, [...run, '--out', `s3://${BUCKET}/eps`]);
    const foldered = worker('machine-folder', manifest, env, run);
    const codes = await Promise.all([bucketed.exit, foldered.exit]);
    expect(codes, `${bucketed.stderr().slice(-1500)}\n---\n${foldered.stderr().slice(-1500)}`).toEqual([0, 0]);
    const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
    expect(seeds.length).toBe(new Set(seeds).size);
    expect(seeds.length).toBe(4);

    const rows = await query<{ episode_id: string; target: string; status: string; output_sha256: string }>(url, 'SELECT episode_id, target, status, output_sha256 FROM episode_stitches ORDER BY target');
    expect(rows.map((r) => r.status)).toEqual(['written', 'written', 'written', 'written']);
    const client = new S3Client({ endpoint: s3.env().AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      for (const ep of ['ep1', 'ep2']) {
        const inBucket = rows.find((r) => r.episode_id === ep && r.target.startsWith('s3://'))!;
        const inFolder = rows.find((r) => r.episode_id === ep && r.target.startsWith('file://'))!;
        const object = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `eps/${ep}.mp4` }))).Body!.transformToByteArray();
        expect(sha(object)).toBe(inBucket.output_sha256);
        const file = readFileSync(new URL(inFolder.target).pathname);
        expect(sha(file)).toBe(inFolder.output_sha256);
        expect(sha(file)).toBe(sha(object));
        expect(path.basename(inFolder.target)).toBe(`${ep}.mp4`);
      }
    } finally {
      client.destroy();
    }
  });
});
