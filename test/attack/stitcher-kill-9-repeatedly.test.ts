/**
 * Attack (issue 13): three workers of one run publishing to `--out s3://`;
 * whichever holds an episode's stitch claim is killed with -9 (and started
 * again), again and again. At the end: every key paid once, every episode
 * recorded as written is in the bucket holding exactly what was recorded,
 * and nothing else sits under the episodes' prefix (no half-written object).
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { query, useHostWorkers, type HostWorker } from '../helpers/attack-hosts.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();

const EPISODES = [1, 2, 3]
  .map((e) => `  - id: ep${e}\n    scenes:\n${[1, 2].map((i) => `      - { id: s${i}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${e * 10 + i} }`).join('\n')}`)
  .join('\n');
const MANIFEST = `version: 1\ndefaults: { image: two-people.png, prompt: kill the stitcher }\nepisodes:\n${EPISODES}\n`;

describe('attack: kill -9 whichever worker is stitching, repeatedly', () => {
  it('every key paid once; every episode recorded as written holds what was recorded', { timeout: 90_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 20 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/clips` };
    const args = ['--run', 'kill-stitchers', '--out', `s3://${BUCKET}/eps`];
    const hosts = ['machine-a', 'machine-b', 'machine-c'];
    const live = new Map<string, HostWorker>(hosts.map((h) => [h, worker(h, manifest, env, args)]));
    let kills = 0;
    const deadline = Date.now() + 40_000;
    while (kills < 6 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      if ((await query<{ t: string | null }>(url, "SELECT to_regclass('episode_stitches')::text AS t"))[0].t === null) continue;
      const holders = await query<{ owner: string }>(url, "SELECT owner FROM episode_stitches WHERE status = 'open' AND owner IS NOT NULL");
      for (const { owner } of holders) {
        const host = owner.split(':')[0];
        const w = live.get(host);
        if (!w || w.child.exitCode !== null || w.child.signalCode !== null) continue;
        w.child.kill('SIGKILL');
        await w.exit;
        kills++;
        live.set(host, worker(host, manifest, env, args));
      }
      if ([...live.values()].every((w) => w.child.exitCode !== null)) break;
    }
    await Promise.all([...live.values()].map((w) => w.exit));
    const last = worker('machine-z', manifest, env, args);
    expect(await last.exit, last.stderr().slice(-2000)).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(3);

    const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
    expect(seeds.length, JSON.stringify(seeds)).toBe(new Set(seeds).size);
    expect(new Set(seeds).size).toBe(6);

    const written = await query<{ target: string; output_sha256: string; output_bytes: number }>(url, "SELECT target, output_sha256, output_bytes FROM episode_stitches WHERE status = 'written'");
    expect(written.length).toBe(3);
    const client = new S3Client({ endpoint: s3.env().AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const listed = (await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'eps/' }))).Contents?.map((c) => c.Key).sort();
      expect(listed).toEqual(['eps/ep1.mp4', 'eps/ep2.mp4', 'eps/ep3.mp4']);
      for (const row of written) {
        const key = row.target.replace(`s3://${BUCKET}/`, '');
        const body = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray();
        expect(body.length).toBe(row.output_bytes);
        expect(createHash('sha256').update(body).digest('hex')).toBe(row.output_sha256);
      }
    } finally {
      client.destroy();
    }
  });
});
