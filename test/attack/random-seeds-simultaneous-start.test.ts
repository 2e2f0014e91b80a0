/**
 * Attack (issue 13): `seed: random` scenes, three workers of one named run
 * started at the same instant (each draws its own seeds), one of them killed
 * with -9 at once (before or after it stored the run's seeds), then started
 * again. Every worker must render the run's seeds: one submit per scene,
 * never one per worker's draw, and no worker refused for "other work".
 */
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
defaults: { image: two-people.png, prompt: random seeds }
episodes:
  - id: ep1
    scenes:
${[1, 2, 3, 4].map((i) => `      - { id: s${i}, left: tone-1s.wav, right: tone-2500ms.wav, seed: random }`).join('\n')}
`;

describe('attack: seed: random, workers started at the same instant, one killed at once', () => {
  for (const killAfterMs of [0, 150, 400]) {
    it(`one submit per scene (killed after ${killAfterMs} ms)`, { timeout: 60_000 }, async () => {
      const fake = await startFake({ msPerVideoSecond: 20 });
      fakes.push(fake);
      const { manifest } = tinyProject(MANIFEST);
      const url = await pg.fresh();
      const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/seeds${killAfterMs}` };
      const run = ['--run', 'random-night', '--budget', '5'];
      const ws = ['machine-a', 'machine-b', 'machine-c'].map((h) => worker(h, manifest, env, run));
      await new Promise((r) => setTimeout(r, killAfterMs));
      ws[0].child.kill('SIGKILL');
      await ws[0].exit;
      const again = worker('machine-a', manifest, env, run);
      const codes = await Promise.all([ws[1].exit, ws[2].exit, again.exit]);
      const logs = [ws[1], ws[2], again].map((w) => w.stderr().slice(-1200)).join('\n---\n');
      expect(codes, logs).toEqual([0, 0, 0]);
      const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
      expect(seeds.length, JSON.stringify(seeds)).toBe(4);
      const [stored] = await query<{ seeds_json: string }>(url, "SELECT seeds_json FROM runs WHERE name = 'random-night'");
      expect(new Set(seeds)).toEqual(new Set(Object.values(JSON.parse(stored.seeds_json) as Record<string, number>)));
    });
  }
});
