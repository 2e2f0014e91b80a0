/**
 * The real bin against the fake WaveSpeed, stopped the ways people stop it:
 * Ctrl-Z / SIGSTOP past the lease while another run starts, and Ctrl-C while
 * a submit request is open. Neither may pay a scene twice or leave it to a
 * person to sort out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';
const ONE_SCENE = 'version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: talk, left: tone-1s.wav, right: tone-2500ms.wav, seed: 5 }\n';

const { fakes, dirs, children } = useProcesses();

interface BinRun {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function runBin(args: string[], env: NodeJS.ProcessEnv): BinRun {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true', ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function setup() {
  const fake = await startFake();
  fakes.push(fake);
  const { dir, manifest } = tinyProject(ONE_SCENE);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-signals-'));
  dirs.push(dir, cacheDir);
  const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--no-report'];
  const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1' };
  return { fake, cacheDir, args, env };
}

describe('stopping a run never pays twice', () => {
  it('SIGSTOP past the lease, a second run meanwhile, SIGCONT: the paused run keeps its claim; one submit, both runs end complete', async () => {
    const { fake, cacheDir, args, env } = await setup();
    // A is stopped while it works on the scene (its submit request open), so its claim is live and its lease runs out.
    fake.script('submit', { kind: 'slow', ms: 1_500 });
    const a = runBin(args, env);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === SUBMIT), 'run A submitting', 30_000);
    a.child.kill('SIGSTOP'); // Ctrl-Z
    await new Promise((r) => setTimeout(r, 2_500)); // well past A's 1 s lease
    const b = runBin(args, env);
    await until(() => /waiting|another run/.test(b.stderr()) || b.child.exitCode !== null, 'run B to wait (or end)', 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    // B has not taken the key: A, paused but alive, still holds it.
    const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
    const row = db.prepare('SELECT owner FROM renders').get() as { owner: string };
    db.close();
    expect(row.owner).toContain(`:${a.child.pid}:`);
    expect(b.child.exitCode).toBeNull();
    a.child.kill('SIGCONT');
    const [codeA, codeB] = await Promise.all([a.exit, b.exit]);
    expect(fake.submissions).toHaveLength(1);
    expect([codeA, codeB]).toEqual([0, 0]);
  });

  it('Ctrl-C while the submit request is open: the answer is awaited, the id recorded; the next run resumes it at no charge', async () => {
    const { fake, cacheDir, args, env } = await setup();
    fake.script('submit', { kind: 'slow', ms: 1_500 });
    const a = runBin(args, env);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === SUBMIT), 'run A submitting', 30_000);
    a.child.kill('SIGINT');
    expect(await a.exit).toBe(130);
    expect(fake.submissions).toHaveLength(1);
    const status = JSON.parse((await runCli(['status', '--cache-dir', cacheDir, '--json'])).stdout);
    expect(status.in_flight).toMatchObject([{ status: 'in-flight', prediction_id: fake.submissions[0].id }]);
    expect(status.attention).toEqual([]);
    expect(status.runs[0].spent_usd).toBe(0.15); // the run that submitted it carries its charge

    const b = runBin(args, env);
    expect(await b.exit).toBe(0);
    expect(fake.submissions).toHaveLength(1);
    expect(b.stderr()).toMatch(/\$0\.00/);
  });

  it('a second Ctrl-C quits at once, even mid-submit: the next run finds the task in the prediction list instead of paying again', async () => {
    const { fake, args, env } = await setup();
    fake.script('submit', { kind: 'slow', ms: 3_000 });
    const a = runBin(args, env);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === SUBMIT), 'run A submitting', 30_000);
    a.child.kill('SIGINT');
    await until(() => a.stderr().includes('interrupting'), 'the first Ctrl-C to be seen');
    a.child.kill('SIGINT');
    expect(await a.exit).toBe(130);
    await until(() => fake.submissions.length === 1, 'the fake to create the task A asked for', 30_000);
    const b = runBin(args, env);
    expect(await b.exit).toBe(0);
    expect(fake.submissions).toHaveLength(1);
    expect(fake.requests.some((r) => r.path === '/api/v3/predictions')).toBe(true);
  });
});
