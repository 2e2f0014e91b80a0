/**
 * Attack (issue 14): two workers of one named run (PostgreSQL, S3) on a
 * script of text lines; at seeded moments during speech and the mixed
 * speech/video phase one of them is killed -9 and started again. Whatever
 * happened: no line voiced twice, no video submitted twice, the run's books
 * never above the cap, and once the last worker is done nothing is left
 * held unless a submit cut by a kill may have been billed.
 */
import { describe, expect, it } from 'vitest';
import { query, useHostWorkers } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { scriptProject } from '../helpers/script-project.ts';

const pg = usePostgres();
const s3 = useS3();
const { fakes, worker } = useHostWorkers();

const LINES = [
  ['Morning. The kettle is on.', 'Good. I was up half the night.', 'Then you get the big mug.'],
  ['What is on today?', 'Bread, mostly. And the garden.', 'The garden can wait.'],
  ['Did you hear that?', 'Only the wind.', 'It sounded like a door.'],
];

describe('attack: kill -9 in a named run voicing lines', () => {
  it('no line or video paid twice, the cap held, the books settled', { timeout: 150_000 }, async () => {
    const f = await startFake({ msPerVideoSecond: 200, seed: 9 });
    fakes.push(f);
    const p = scriptProject(LINES);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/speech-chaos` };
    const cap = 1;
    const run = ['--run', 'script-chaos', '--budget', String(cap), '--concurrency', '2'];
    const books = async () => {
      if ((await query<{ t: string | null }>(url, "SELECT to_regclass('run_holds')::text AS t"))[0].t === null) return { held: 0, spent: 0 };
      const rows = await query<{ state: string; usd: number }>(url, 'SELECT state, coalesce(sum(usd), 0)::float AS usd FROM run_holds GROUP BY state');
      const of = (state: string) => Math.round((rows.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
      return { held: of('held'), spent: of('spent') };
    };
    let a = worker('machine-a', p.manifest, env, run);
    let b = worker('machine-b', p.manifest, env, run);
    const kills: [() => boolean, 'a' | 'b'][] = [
      [() => f.speechSubmissions.length >= 2, 'a'],
      [() => f.speechSubmissions.length >= 6, 'b'],
      [() => f.submissions.length >= 1, 'a'],
    ];
    for (const [when, who] of kills) {
      await until(() => when() || (a.child.exitCode !== null && b.child.exitCode !== null), 'a kill moment', 60_000);
      const w = who === 'a' ? a : b;
      if (w.child.exitCode === null) {
        w.child.kill('SIGKILL');
        await w.exit;
      }
      const { held, spent } = await books();
      expect(held + spent).toBeLessThanOrEqual(cap);
      if (who === 'a') a = worker('machine-a', p.manifest, env, run);
      else b = worker('machine-b', p.manifest, env, run);
    }
    const [ca, cb] = [await a.exit, await b.exit];
    // A last worker, after both, finishes what is left (or holds what may have been billed).
    const last = worker('machine-c', p.manifest, env, run);
    const cl = await last.exit;
    expect([ca, cb, cl].every((c) => c === 0 || c === 1), `${a.stderr()}\n${b.stderr()}\n${last.stderr()}`).toBe(true);
    const texts = f.speechSubmissions.map((s) => s.body.text);
    expect(texts.length, texts.join(' | ')).toBe(new Set(texts).size);
    const seeds = f.submissions.map((s) => s.body.seed);
    expect(seeds.length).toBe(new Set(seeds).size);
    const end = await books();
    expect(end.held + end.spent).toBeLessThanOrEqual(cap);
    if (cl === 0) expect(end).toEqual({ held: 0, spent: f.chargedUsd });
    else expect(last.stderr()).toMatch(/may have been billed/);
  });
});
