/**
 * Attack (issue 13): the worker that creates a named run (its cap, its
 * seeds) is killed with -9 right after, before it submits anything. A second
 * worker joining the run must do all the work within the cap: every key
 * paid once, no episode skipped for money the dead worker never spent, and
 * nothing left held on the run's books at the end.
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

const EPISODES = [1, 2]
  .map((e) => `  - id: ep${e}\n    scenes:\n${[1, 2].map((i) => `      - { id: s${i}, left: tone-1s.wav, right: tone-2500ms.wav, seed: random }`).join('\n')}`)
  .join('\n');
const MANIFEST = `version: 1\ndefaults: { image: two-people.png, prompt: first dies }\nepisodes:\n${EPISODES}\n`;

describe('attack: the first worker of a named run dies before any submit', () => {
  it('the next worker does all the work within the cap, paying each key once', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 20 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/first` };
    // Four $0.15 scenes: the cap fits them all, and nothing more.
    const run = ['--run', 'first-dies', '--budget', '0.6'];
    // Its uploads hang: it has joined the run (and reserved) but submits nothing before it dies.
    fake.script('upload', ...Array.from({ length: 12 }, () => ({ kind: 'slow' as const, ms: 60_000 })));
    const first = worker('machine-first', manifest, env, run);
    for (let i = 0; i < 400; i++) {
      const made = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM runs WHERE name = 'first-dies'").catch(() => [{ n: 0 }]);
      if (made[0].n > 0) {
        await new Promise((r) => setTimeout(r, 500));
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    first.child.kill('SIGKILL');
    await first.exit;
    expect(fake.submissions.length).toBe(0);
    (fake as unknown as { scripted: Map<string, unknown[]> }).scripted.clear();

    const second = worker('machine-second', manifest, env, run);
    expect(await second.exit, second.stderr().slice(-2000)).toBe(0);
    const seeds = fake.submissions.map((s) => (s.body as { seed: number }).seed);
    expect(seeds.length, JSON.stringify(seeds)).toBe(4);
    expect(new Set(seeds).size).toBe(4);
    const holds = await query<{ state: string; usd: number }>(url, "SELECT h.state, coalesce(sum(h.usd), 0)::float AS usd FROM run_holds h JOIN runs r ON r.id = h.run_id WHERE r.name = 'first-dies' GROUP BY h.state");
    expect(holds.find((h) => h.state === 'held')?.usd ?? 0).toBe(0);
    expect(fake.chargedUsd).toBeLessThanOrEqual(0.6);
  });
});
