/**
 * Fencing across machines (issue 13), with real processes: two workers on one
 * PostgreSQL, each playing another host (so only the lease tells whether the
 * other lives). Worker A submits every scene and is SIGSTOPped while the
 * predictions process; past its lease, worker B takes each claim over at a
 * higher epoch and resumes A's predictions; A is continued. The fake
 * WaveSpeed sees exactly one submit per key, and B finishes the run. Then A
 * stopped inside its submit request: B finds the task in the provider's list
 * and resumes it; still one submit.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../../pipeline/cache/postgres/db.ts';
import { KEY, startFake, until } from '../helpers/engine.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { BUCKET, useS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import { useProcesses } from '../helpers/processes.ts';

const pg = usePostgres();
const s3 = useS3();
const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';
const ONE_SCENE = 'version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: talk, left: tone-1s.wav, right: tone-2500ms.wav, seed: 5 }\n';
const preload = path.join(import.meta.dirname, '../helpers/fake-host.mjs');

const { fakes, children } = useProcesses();

/** `duologue render` as a worker on `host`, with a cache dir of its own. */
function worker(host: string, manifest: string, env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(path.join(tmpdir(), `dl-fence-${host}-`));
  const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--no-report'];
  const child = spawn(process.execPath, ['--import', preload, bin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: 'true', ...env, DUOLOGUE_TEST_HOSTNAME: host },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

interface ClaimRow {
  key: string;
  status: string;
  owner: string | null;
  claim_epoch: number;
  prediction_id: string | null;
}

async function claims(url: string): Promise<ClaimRow[]> {
  const server = connect(url);
  try {
    return await server.sql.rows<ClaimRow>('SELECT key, status, owner, claim_epoch, prediction_id FROM renders ORDER BY key');
  } finally {
    await server.pool.end();
  }
}

/** The render rows once `ready` holds of them (polled: another process writes them). */
async function claimsWhen(url: string, ready: (rows: ClaimRow[]) => boolean): Promise<ClaimRow[]> {
  let rows: ClaimRow[] = [];
  for (let i = 0; i < 600; i++) {
    rows = await claims(url);
    if (ready(rows)) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  return rows;
}

describe('fencing tokens across machines', () => {
  it('SIGSTOP a worker past its lease, a second takes its claims over and resumes its predictions, SIGCONT the first: one submit per key', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.hold(); // predictions stay processing: A is stopped with every scene in flight
    const { manifest } = tinyProject();
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/fence` };

    const a = worker('machine-a', manifest, env);
    await until(() => fake.submissions.length === 3 || a.child.exitCode !== null, 'worker A to submit the three scenes', 60_000);
    expect(a.child.exitCode, a.stderr()).toBeNull();
    const before = await claimsWhen(url, (rows) => rows.length === 3 && rows.every((r) => r.status === 'in-flight'));
    expect(before.map((r) => [r.owner?.split(':')[0], r.claim_epoch])).toEqual(Array(3).fill(['machine-a', 1]));
    a.child.kill('SIGSTOP');

    // B starts once A's lease has surely lapsed (A's heartbeat is frozen), and takes every claim over.
    await new Promise((r) => setTimeout(r, 2_000));
    const b = worker('machine-b', manifest, env);
    const taken = await claimsWhen(url, (rows) => rows.every((r) => r.owner?.startsWith('machine-b:')));
    expect(taken.map((r) => [r.owner?.split(':')[0], r.claim_epoch, r.prediction_id])).toEqual(before.map((r) => ['machine-b', 2, r.prediction_id]));

    a.child.kill('SIGCONT');
    fake.release();
    expect(await b.exit, b.stderr()).toBe(0);
    await a.exit;
    // One paid prediction per key, whatever A did when it woke up.
    expect(fake.submissions).toHaveLength(3);
    expect(new Set(fake.submissions.map((s) => s.body.seed)).size).toBe(3);
    expect((await claims(url)).map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
  });

  it('SIGSTOP a worker inside its submit request, past its lease: the other finds the task it created and resumes it instead of paying again', { timeout: 120_000 }, async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.script('submit', { kind: 'slow', ms: 4_000 });
    const { manifest } = tinyProject(ONE_SCENE);
    const url = await pg.fresh();
    const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05', DUOLOGUE_LEASE_SECONDS: '1', DUOLOGUE_STORE: url, ...s3.env(), DUOLOGUE_CLIPS: `s3://${BUCKET}/fence2` };

    const a = worker('machine-a', manifest, env);
    await until(() => fake.requests.some((r) => r.method === 'POST' && r.path === SUBMIT) || a.child.exitCode !== null, 'worker A to send its submit', 60_000);
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2_000));
    const b = worker('machine-b', manifest, env);
    const taken = await claimsWhen(url, (rows) => rows.length === 1 && Boolean(rows[0].owner?.startsWith('machine-b:')));
    expect(taken[0].claim_epoch).toBe(2);
    const codeB = await b.exit;
    a.child.kill('SIGCONT');
    await a.exit;
    // Paid once: B did not submit the key A may have paid for, and the id A's answer carried is on record.
    expect(fake.submissions).toHaveLength(1);
    const [row] = await claims(url);
    // B found the task A's submit created in the provider's list and resumed it; the clip is A's one paid prediction.
    expect(codeB, b.stderr()).toBe(0);
    expect(b.stderr()).toContain(`resuming ep1/talk (prediction ${fake.submissions[0].id})`);
    expect(row).toMatchObject({ status: 'complete', prediction_id: fake.submissions[0].id, claim_epoch: 2 });
  });
});
