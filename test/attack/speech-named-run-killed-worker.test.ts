/**
 * Attack (issue 14): workers of one named run (`--run`, PostgreSQL, S3)
 * voicing the same lines. (1) Two at once: each line voiced once, each
 * scene's video submitted once. (2) A worker killed -9 just after its speech
 * submits were answered: the next worker resumes those predictions (never
 * submits them again) and takes over the killed worker's holds, so once it
 * has finished nothing is left held on the run's books and what was charged
 * is what is spent. (3) A worker killed mid-submit (the task is created and
 * billed without its answer): the line is held by every later worker, never
 * resent, and the killed worker's hold stays on the books (it is the charge).
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
];

async function books(url: string, name: string): Promise<{ held: number; spent: number }> {
  const rows = await query<{ state: string; usd: number }>(url, "SELECT h.state, coalesce(sum(h.usd), 0)::float AS usd FROM run_holds h JOIN runs r ON r.id = h.run_id WHERE r.name = $1 GROUP BY h.state", [name]);
  const of = (state: string) => Math.round((rows.find((h) => h.state === state)?.usd ?? 0) * 1e4) / 1e4;
  return { held: of('held'), spent: of('spent') };
}

describe('attack: lines as text in a named run on PostgreSQL', () => {
  it('two workers at once: each line voiced once, each video once, nothing left held', { timeout: 120_000 }, async () => {
    const f = await startFake({ msPerVideoSecond: 100 });
    fakes.push(f);
    const p = scriptProject(LINES);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/speech-two` };
    const run = ['--run', 'script-two', '--budget', '2'];
    const [a, b] = [worker('machine-a', p.manifest, env, run), worker('machine-b', p.manifest, env, run)];
    expect(await a.exit, a.stderr()).toBe(0);
    expect(await b.exit, b.stderr()).toBe(0);
    const texts = f.speechSubmissions.map((s) => s.body.text);
    expect(texts).toHaveLength(6);
    expect(new Set(texts).size).toBe(6);
    expect(f.submissions).toHaveLength(2);
    expect(await books(url, 'script-two')).toEqual({ held: 0, spent: f.chargedUsd });
  });

  it('a worker killed after its speech submits: resumed, not resent, its holds settled', { timeout: 120_000 }, async () => {
    const f = await startFake({ msPerVideoSecond: 400 });
    fakes.push(f);
    const p = scriptProject(LINES);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/speech-killed` };
    const run = ['--run', 'script-killed', '--budget', '2', '--concurrency', '3'];
    const a = worker('machine-a', p.manifest, env, run);
    await until(() => f.speechSubmissions.length >= 3, 'three speech submits');
    // Their answers (the prediction ids) are recorded at once; the speech itself takes ~0.5 s more.
    await new Promise((r) => setTimeout(r, 150));
    a.child.kill('SIGKILL');
    await a.exit;
    const before = f.speechSubmissions.length;
    expect(f.charges.size).toBe(0); // killed before any line was done
    const b = worker('machine-b', p.manifest, env, run);
    expect(await b.exit, b.stderr()).toBe(0);
    const texts = f.speechSubmissions.map((s) => s.body.text);
    expect(new Set(texts).size, texts.join(' | ')).toBe(texts.length);
    expect(texts).toHaveLength(6);
    expect(before).toBeGreaterThanOrEqual(3);
    expect(b.stderr()).toContain('resum');
    expect(f.submissions).toHaveLength(2);
    expect(await books(url, 'script-killed')).toEqual({ held: 0, spent: f.chargedUsd });
  });

  it('a worker killed mid-submit: the line is held (never resent) and its hold stays counted against the cap', { timeout: 120_000 }, async () => {
    const f = await startFake({ msPerVideoSecond: 100 });
    fakes.push(f);
    // The first speech submit is answered only after 1.5 s; the task is created all the same (and billed).
    f.script('speech', { kind: 'slow', ms: 1500 });
    const p = scriptProject(LINES.slice(0, 1));
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/speech-midsubmit` };
    const run = ['--run', 'script-midsubmit', '--budget', '2', '--concurrency', '1'];
    const a = worker('machine-a', p.manifest, env, run);
    await until(() => f.routeCounts.speech >= 1, 'the first speech submit');
    a.child.kill('SIGKILL');
    await a.exit;
    await until(() => f.speechSubmissions.length >= 1 && f.charges.size >= 1, 'the fake to make (and bill) the orphaned speech');
    const b = worker('machine-b', p.manifest, env, run);
    expect(await b.exit).toBe(1);
    expect(b.stderr()).toMatch(/may have been billed/);
    const texts = f.speechSubmissions.map((s) => s.body.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(f.submissions).toHaveLength(0);
    // The killed worker's hold is still on the books (the line may be billed: it is), beside what B spent.
    const { held, spent } = await books(url, 'script-midsubmit');
    expect(Math.round((held + spent) * 1e4) / 1e4).toBe(f.chargedUsd);
    expect(held).toBeGreaterThan(0);
  });
});
