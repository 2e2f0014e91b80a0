/**
 * Attack (issue 13): a stitcher publishing to `--out s3://` is stopped
 * (SIGSTOP) after its claim's last renewal, just before its PUT. Another
 * worker takes the episode over after the lease and writes it; a later run
 * of the changed episode (another title) writes the new version. Then the
 * stopped one is continued: its PUT must not land (the store records the
 * new version as written; the object must hold it). Held: the conditional
 * put (If-None-Match on what it looked at before the pause) is refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { query, useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();
const stopBeforePut = path.join(import.meta.dirname, '../helpers/stop-before-put.mjs');

const manifestOf = (title: string) => `version: 1
defaults: { image: two-people.png, prompt: paused stitcher }
episodes:
  - id: ep1
    title: ${title}
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 51 }
`;

const stopped = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T');

describe('attack: a stitcher paused before its PUT is continued after newer versions were written', () => {
  it('the episode object still holds what the store records as written', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 5 });
    fakes.push(fake);
    const { manifest } = tinyProject(manifestOf('First cut'));
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/clips` };
    const out = ['--out', `s3://${BUCKET}/eps`];

    const paused = worker('machine-paused', manifest, { ...env, NODE_OPTIONS: `--import=${stopBeforePut}`, DUOLOGUE_TEST_STOP_BEFORE_PUT: 'eps/ep1.mp4' }, out);
    await until(() => paused.child.exitCode === null && stopped(paused.child.pid!), 'the stitcher stopped before its PUT', 40_000);

    const takeover = worker('machine-takeover', manifest, env, out);
    expect(await takeover.exit, takeover.stderr().slice(-2000)).toBe(0);
    writeFileSync(manifest, manifestOf('Second cut'));
    const newer = worker('machine-newer', manifest, env, out);
    expect(await newer.exit, newer.stderr().slice(-2000)).toBe(0);

    paused.child.kill('SIGCONT');
    // It publishes nothing: its upload is refused (the object is no longer the one it looked at).
    expect(await paused.exit).toBe(1);
    expect(paused.stderr()).toContain('was written by someone else while this episode was published');

    const [latest] = await query<{ output_sha256: string }>(url, "SELECT output_sha256 FROM episode_stitches WHERE status = 'written' ORDER BY written_at DESC LIMIT 1");
    const client = new S3Client({ endpoint: s3.env().AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const body = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'eps/ep1.mp4' }))).Body!.transformToByteArray();
      expect(createHash('sha256').update(body).digest('hex'), paused.stderr().slice(-2000)).toBe(latest.output_sha256);
    } finally {
      client.destroy();
    }
  });
});
