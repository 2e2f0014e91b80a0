/**
 * Attack (issue 13): a worker frozen (SIGSTOP, a suspended VM, a long GC
 * pause) inside its submit, on another host, past its lease. Worker A marks
 * the key "submitting"; another worker B takes the claim over. Before the
 * fix, B looked for A's task twice, found nothing yet, and paid again; then
 * A's request landed: two paid predictions for one key.
 *
 * Now: A's request carries a send deadline (half its lease after the claim
 * check), so frozen before its first byte left, A sends nothing when
 * continued; and B, finding a submit whose sender stopped renewing its claim
 * mid-submit without recording the request's end, cannot prove a new submit
 * would be the only one: it looks (a task found is attached) and, finding
 * none, holds the scene (exit 1) instead of paying. Both
 * freezes are placed exactly (no timing luck): A stops itself as its submit
 * request is created (fake-host.mjs), or the test stops it once the fake has
 * A's request in hand and holds its answer past the lost-answer window.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useHostWorkers, query } from '../helpers/attack-hosts.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';

const pg = usePostgres();
const s3 = useS3();

const { fakes, worker } = useHostWorkers();

const ONE_SCENE = 'version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: talk, left: tone-1s.wav, right: tone-2500ms.wav, seed: 5 }\n';
const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';
/** The claims' lease (DUOLOGUE_LEASE_SECONDS=1), and a wait that outlasts it. */
const PAST_LEASE_MS = 1_600;

/** Whether a process is stopped (state T in /proc/PID/stat). */
function stopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

describe('attack: a worker frozen inside its submit, on another host, past its lease', () => {
  it('frozen after the claim check, before its first byte: the other worker holds the scene, and continued, the frozen one sends nothing late', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { manifest } = tinyProject(ONE_SCENE);
    const url = await pg.fresh();
    // At this scale the lost-answer window is 4.5 s and the two looks 3 s apart.
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/frozen-before` };

    const a = worker('machine-a', manifest, { ...env, DUOLOGUE_TEST_STOP_BEFORE_SUBMIT: '1' }, []);
    await until(() => stopped(a.child.pid!) || a.child.exitCode !== null, 'worker A to freeze inside its submit', 60_000);
    expect((await query<{ status: string }>(url, 'SELECT status FROM renders'))[0].status).toBe('submitting');
    await new Promise((r) => setTimeout(r, PAST_LEASE_MS));

    const b = worker('machine-b', manifest, env, []);
    expect(await b.exit).toBe(1);
    expect(b.stdout() + b.stderr()).toContain('may only be paused');
    expect(fake.requests.filter((r) => r.path === SUBMIT)).toHaveLength(0); // B paid nothing

    // Continued long after its send deadline: its request is cut unsent, its claim found lost; it
    // records that its request is over, takes the held key back, looks twice and submits once.
    a.child.kill('SIGCONT');
    expect(await a.exit, a.stderr().slice(-2000)).toBe(0);
    expect(fake.requests.filter((r) => r.path === SUBMIT)).toHaveLength(1);
    // Its late request was cut unsent, not let go: the one submit is the fresh one after its looks.
    expect(a.stdout()).toContain('past its send deadline');
    expect(a.stdout()).toContain('another run took this key over while this one was paused');
    expect(fake.submissions).toHaveLength(1);
    await until(() => fake.openPredictions === 0, 'the predictions to end', 30_000);
    const rows = await query<{ status: string }>(url, 'SELECT status FROM renders');
    expect(rows.map((r) => r.status)).toEqual(['complete']);
  });

  it('its request in the provider\'s hands, answered only after the lost-answer window: held, never paid twice', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    // The fake holds the request 15 s before it creates the task: past the 4.5 s window at this scale,
    // and past B's two looks (3 s apart) — which would attach the task had it been there.
    fake.script('submit', { kind: 'slow', ms: 15_000 });
    const { manifest } = tinyProject(ONE_SCENE);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/frozen-after` };

    const a = worker('machine-a', manifest, env, []);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === SUBMIT) || a.child.exitCode !== null, 'worker A to send its submit', 60_000);
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, PAST_LEASE_MS));

    const b = worker('machine-b', manifest, env, []);
    expect(await b.exit).toBe(1);
    expect(b.stdout() + b.stderr()).toContain('may only be paused');
    expect(fake.requests.filter((r) => r.path === SUBMIT)).toHaveLength(1); // A's alone: B sent nothing

    // A's request lands late; A, continued, collects that one task.
    await until(() => fake.submissions.length === 1, "A's late task to be created", 30_000);
    a.child.kill('SIGCONT');
    expect(await a.exit, a.stderr().slice(-2000)).toBe(0);
    await until(() => fake.openPredictions === 0, 'the predictions to end', 30_000);
    expect(fake.submissions).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === SUBMIT)).toHaveLength(1);
    const rows = await query<{ status: string }>(url, 'SELECT status FROM renders');
    expect(rows.map((r) => r.status)).toEqual(['complete']);
  });
});
