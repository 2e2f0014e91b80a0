/**
 * Attack (issue 13): a clip's object in the bucket is damaged (same size,
 * its recorded sha256 kept in its metadata) after it was rendered and before
 * another machine's stitcher fetches it. That machine's worker only looks at
 * the object (deferSharedClips), so the stitcher is the first to read the
 * bytes: it must refuse them (no episode published from a clip that does not
 * match, none recorded as written), and nothing is paid again on a guess.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
defaults: { image: two-people.png, prompt: damaged clip }
episodes:
  - id: ep1
    scenes:
      - { id: s1, left: tone-1s.wav, right: tone-2500ms.wav, seed: 61 }
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('attack: a clip object damaged in the bucket before the stitcher fetches it', () => {
  it('the stitcher refuses it: no episode published or recorded, nothing paid again', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 5 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/clips` };

    const first = worker('machine-render', manifest, env, []);
    expect(await first.exit, first.stderr().slice(-2000)).toBe(0);
    expect(fake.submissions.length).toBe(1);

    // The clip object's bytes flipped in place (s3rver keeps each object's body in a file of its own).
    const [key] = (await query<{ key: string }>(url, 'SELECT key FROM renders')).map((r) => r.key);
    const [body] = filesUnder(path.join(s3.directory(), BUCKET)).filter((f) => f.includes(key) && !f.endsWith('.json') && statSync(f).size > 1000);
    expect(body).toBeDefined();
    const bytes = readFileSync(body);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(body, bytes);
    const client = new S3Client({ endpoint: s3.env().AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `clips/clips/${key.slice(0, 2)}/${key}.mp4` })).catch(() => undefined);
    client.destroy();
    expect(head?.Metadata?.sha256, 'the damaged object still claims its recorded sha256').toBeDefined();

    const stitcher = worker('machine-stitch', manifest, env, ['--out', `s3://${BUCKET}/eps`]);
    const code = await stitcher.exit;
    expect(code, stitcher.stderr().slice(-2000)).not.toBe(0);
    expect(stitcher.stderr()).toMatch(/damaged/);
    expect(fake.submissions.length).toBe(1);
    const written = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM episode_stitches WHERE status = 'written' AND target LIKE 's3://%'");
    expect(written[0].n).toBe(0);
    expect(filesUnder(path.join(s3.directory(), BUCKET)).some((f) => f.includes('eps/ep1.mp4') || f.includes(`eps${path.sep}ep1.mp4`))).toBe(false);
  });
});
