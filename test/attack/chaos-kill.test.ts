/**
 * Attack (issue 13): three workers of one named run, each playing another
 * host with a cache dir of its own, on one PostgreSQL and one bucket; every
 * half second or so one of them, at random (seeded), is killed with -9 and
 * started again; submits meet 429s. Whatever happened: at most one paid
 * prediction per key (seed), no episode paid for in part (the cap fits two
 * of the three: found a bug, a restarted worker admitted the third against
 * the cap minus what was spent while the second was still held by others),
 * the run's books never hold more than the cap, and once a last worker has
 * finished, nothing is left held.
 */
import { describe, expect, it } from 'vitest';
import { useHostWorkers, query } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();

const { fakes, worker } = useHostWorkers();



// Three episodes of two $0.15 scenes: the cap fits two of them, the third is skipped whole.
const EPISODES = [1, 2, 3]
  .map((e) => `  - id: ep${e}\n    scenes:\n${[1, 2].map((i) => `      - { id: s${i}, left: tone-1s.wav, right: tone-2500ms.wav, seed: ${e * 10 + i} }`).join('\n')}`)
  .join('\n');
const MANIFEST = `version: 1\ndefaults: { image: two-people.png, prompt: chaos }\nepisodes:\n${EPISODES}\n`;

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('attack: kill -9 at random, three workers of one run', () => {
  it('one paid prediction per key, the cap held, nothing left held at the end', { timeout: 180_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 300, seed: 3 });
    fakes.push(fake);
    fake.rates('submit', [{ fault: { kind: 'status', status: 429 }, rate: 0.2 }]);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/chaos` };
    const cap = 0.75;
    const run = ['--run', 'nightly-chaos', '--budget', String(cap)];
    const random = rng(11);
    const hosts = ['machine-a', 'machine-b', 'machine-c'];
    const live = new Map(hosts.map((h) => [h, worker(h, manifest, env, run)]));
    const capHeld = async () => {
      // Before the first worker migrated the schema there are no books yet.
      if ((await query<{ t: string | null }>(url, "SELECT to_regclass('run_holds')::text AS t"))[0].t === null) return 0;
      const rows = await query<{ usd: number }>(url, "SELECT coalesce(sum(h.usd), 0)::float AS usd FROM run_holds h JOIN runs r ON r.id = h.run_id WHERE r.name = 'nightly-chaos'");
      return Math.round((rows[0]?.usd ?? 0) * 1e4) / 1e4;
    };
    for (let round = 0; round < 12; round++) {
      await new Promise((r) => setTimeout(r, 300 + random() * 700));
      expect(await capHeld()).toBeLessThanOrEqual(cap);
      const host = hosts[Math.floor(random() * hosts.length)];
      const w = live.get(host)!;
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exit;
      live.set(host, worker(host, manifest, env, run));
    }
    // The last workers finish without being disturbed.
    const codes = await Promise.all([...live.values()].map((w) => w.exit));
    // Then one more, after every lease: it takes over whatever the killed ones left.
    const last = worker('machine-z', manifest, env, run);
    await last.exit;

    const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
    expect(seeds.length, JSON.stringify(seeds)).toBe(new Set(seeds).size);
    // Episodes are admitted whole: none is paid for in part (seed = episode * 10 + scene).
    const perEpisode = [1, 2, 3].map((e) => seeds.filter((x) => Math.floor(x / 10) === e).length);
    expect(perEpisode.filter((n) => n === 1), JSON.stringify(seeds)).toEqual([]);
    const [r] = await query<{ id: number }>(url, "SELECT id FROM runs WHERE name = 'nightly-chaos'");
    const holds = await query<{ state: string; usd: number }>(url, 'SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds WHERE run_id = $1 GROUP BY state', [r.id]);
    const of = (state: string) => Math.round((holds.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
    expect(of('held'), JSON.stringify({ codes, last: last.stderr().slice(-2000) })).toBe(0);
    expect(of('spent')).toBeGreaterThanOrEqual(fake.chargedUsd);
    expect(of('spent')).toBeLessThanOrEqual(cap);
    expect(fake.chargedUsd).toBeLessThanOrEqual(cap);
  });
});
