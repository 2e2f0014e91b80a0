/**
 * Bench `scaleout`: one night's scenes split by 1, 2 and 4 worker processes
 * (`duologue render`, each with a cache dir and a host name of its own, one
 * `--run`) on one PostgreSQL and one s3rver bucket, against the fake
 * WaveSpeed (one real 1 s clip as every output). Processing time is
 * InfiniteTalk's ~20 s per video second scaled by the same factor as the
 * client's waits (TIME_SCALE below, DUOLOGUE_TIME_SCALE): 5 s a scene, 4 at once per
 * worker (the default concurrency), 64 at once at the fake (not the limit here).
 * `--tier silver`: submits are paced for the account through the store (as a
 * studio's workers would be), at a limit these sizes never reach.
 *
 * Throughput is scenes per minute from the first submit to the last clip
 * collected (a `done` event of any worker). Process start-up is left out (real
 * machines start in parallel; here four start on 2 cores), and so is the
 * stitching after (ffmpeg's CPU, the `stitch` bench's subject; on 2 shared
 * cores it does not scale with processes): the time to the last exit is shown
 * beside. Ratio = throughput(N) ÷ (N × throughput(1)); target ≥ 0.9.
 *
 * Store CPU per scene: one worker renders the same scenes on the embedded
 * default (SQLite, clips in the cache dir) and on PostgreSQL + S3; the
 * worker process's CPU per scene in each, and the PostgreSQL server's (the
 * postmaster and every backend, read from /proc).
 *
 * Run: npm run bench -- scaleout
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KEY, startFake } from '../helpers/engine.ts';
import { cannedClip, oneSecondSeries } from '../helpers/canned.ts';
import { startPostgres, type StartedPostgres } from '../helpers/postgres.ts';
import { BUCKET, startS3 } from '../helpers/s3.ts';
import { tinyProject } from '../helpers/tasks.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { table, type BenchResult } from './markdown.ts';
import { sized } from './options.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const preloads = ['--import', path.join(import.meta.dirname, '../helpers/fake-host.mjs'), '--import', path.join(import.meta.dirname, 'cpu-at-exit.mjs')];
/**
 * InfiniteTalk's ~20 s of processing per video second, and the client's waits, scaled by one factor
 * (BENCH_SCALEOUT_TIME_SCALE): 0.25 makes a one-second scene 5 s, so a worker's start-up on shared
 * cores (its first submit a second or two after the first worker's) stays small next to the run, as
 * it is next to a real night. The figures before used 0.05 (1 s a scene, a 4-worker run ~6 s long).
 */
const TIME_SCALE = Number(process.env.BENCH_SCALEOUT_TIME_SCALE ?? 0.25);
const PROCESSING_MS = Math.round(20_000 * TIME_SCALE);
const PER_WORKER = 4;
const TICKS = 100; // USER_HZ: /proc's clock ticks per second on Linux

interface Worker {
  code: number | null;
  cpuMs: number;
  stderr: string;
  /** Scenes this worker rendered (its `done` events), and when its last one arrived (Date.now()). */
  rendered: number;
  lastDoneAt: number;
}

/** One `duologue render --json` as `host`; resolves at its exit with its own CPU and when it last collected a clip. */
function worker(host: string, manifest: string, env: NodeJS.ProcessEnv, extra: string[]): Promise<Worker> {
  const dir = mkdtempSync(path.join(tmpdir(), `dl-scale-${host}-`));
  const cpuFile = path.join(dir, 'cpu.json');
  const args = ['render', manifest, '--provider', 'wavespeed', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--no-report', '--json', '--tier', 'silver', '--concurrency', String(PER_WORKER), ...extra];
  const child = spawn(process.execPath, [...preloads, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true', ...env, DUOLOGUE_TEST_HOSTNAME: host, BENCH_CPU_FILE: cpuFile } });
  let stderr = '';
  let rendered = 0;
  let lastDoneAt = 0;
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if ((JSON.parse(line) as { type: string }).type !== 'done') return;
    rendered++;
    lastDoneAt = Date.now();
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const cpu = existsSync(cpuFile) ? (JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number }) : { user: 0, system: 0 };
      resolve({ code, cpuMs: (cpu.user + cpu.system) / 1000, stderr, rendered, lastDoneAt });
    }),
  );
}

/** CPU ms of the PostgreSQL server so far: the postmaster (with its reaped backends) and its live children. */
function postgresCpuMs(pg: StartedPostgres): number {
  const postmaster = Number(readFileSync(path.join(pg.dataDir(), 'postmaster.pid'), 'utf8').split('\n')[0]);
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command (which may hold spaces): state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    const ppid = Number(f[1]);
    if (pid === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    else if (ppid === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / TICKS;
}

async function settle(): Promise<void> {
  // Backends exit once their worker's pool closes; let the postmaster reap them (their CPU moves to it).
  await new Promise((r) => setTimeout(r, 500));
}

interface Shared {
  fake: FakeWavespeed;
  pg: StartedPostgres;
  s3env: NodeJS.ProcessEnv;
  manifest: string;
  scenes: number;
}

/** N workers split the scenes in one run: scenes per minute from the first submit to the last clip collected. */
async function splitRun(shared: Shared, n: number) {
  const { fake, pg, s3env, manifest, scenes } = shared;
  const env = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: String(TIME_SCALE), DUOLOGUE_STORE: await pg.fresh(), ...s3env, DUOLOGUE_CLIPS: `s3://${BUCKET}/scale-${n}` };
  const before = fake.submissions.length;
  // Episodes to the bucket, as the README's recipe: each is stitched by one worker, which alone downloads
  // the clips the others rendered for it (a folder per worker would have every worker stitch every episode).
  const results = await Promise.all(Array.from({ length: n }, (_, i) => worker(`machine-${i + 1}`, manifest, env, ['--run', `scale-${n}`, '--out', `s3://${BUCKET}/episodes-${n}`])));
  const end = Date.now();
  for (const r of results) if (r.code !== 0) throw new Error(`a worker of ${n} exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  const mine = fake.submissions.slice(before);
  const first = Math.min(...mine.map((s) => s.receivedAt));
  const seconds = (Math.max(...results.map((r) => r.lastDoneAt)) - first) / 1000;
  return {
    workers: n,
    seconds: Number(seconds.toFixed(2)),
    perMinute: Math.round((scenes / seconds) * 60),
    /** Scenes each worker rendered: how the run split the work. */
    split: results.map((r) => r.rendered).join('+'),
    submits: mine.length,
    /** From the first submit to the last worker's exit (stitching included: each worker stitches after its scenes). */
    untilExitSeconds: Number(((end - first) / 1000).toFixed(2)),
    cpuMsPerScene: Number((results.reduce((t, r) => t + r.cpuMs, 0) / scenes).toFixed(1)),
  };
}

/** One worker, the same scenes, on SQLite or on PostgreSQL + S3: its CPU per scene, and the server's. */
async function storeCpu(shared: Shared, backend: 'sqlite' | 'postgres') {
  const { fake, pg, s3env, manifest, scenes } = shared;
  const base = { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: String(TIME_SCALE) };
  const env = backend === 'sqlite' ? base : { ...base, DUOLOGUE_STORE: await pg.fresh(), ...s3env, DUOLOGUE_CLIPS: `s3://${BUCKET}/cpu` };
  await settle();
  const server0 = postgresCpuMs(pg);
  const r = await worker('machine-cpu', manifest, env, []);
  if (r.code !== 0) throw new Error(`the ${backend} worker exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  await settle();
  return { workerMsPerScene: r.cpuMs / scenes, serverMsPerScene: (postgresCpuMs(pg) - server0) / scenes };
}

export async function benchScaleout(): Promise<BenchResult> {
  const scenes = sized(96, 16);
  // As root, PostgreSQL runs as its own user: its folder goes beside this bench's private temp root.
  process.env.DUOLOGUE_TEST_TMP_BASE ??= path.dirname(tmpdir());
  const pg = await startPostgres();
  const s3 = await startS3();
  const fake = await startFake({ cannedOutput: await cannedClip(), cannedSeconds: 1, msPerVideoSecond: PROCESSING_MS, maxConcurrent: 64, keepRequests: 100 });
  const s3env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${s3.port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  try {
    const { manifest } = tinyProject(oneSecondSeries(scenes, 8));
    const shared = { fake, pg, s3env, manifest, scenes };
    const runs = [];
    for (const n of [1, 2, 4]) runs.push(await splitRun(shared, n));
    const one = runs[0].perMinute;
    const sqlite = await storeCpu(shared, 'sqlite');
    const postgres = await storeCpu(shared, 'postgres');
    return {
      scenes,
      processing_ms: PROCESSING_MS,
      concurrency_per_worker: PER_WORKER,
      ideal_per_worker_per_minute: Math.round((PER_WORKER * 60_000) / PROCESSING_MS),
      runs: runs.map((r) => ({ ...r, ratio: Number((r.perMinute / (r.workers * one)).toFixed(3)) })),
      cpu_ms_per_scene: {
        sqlite_worker: Number(sqlite.workerMsPerScene.toFixed(1)),
        postgres_worker: Number(postgres.workerMsPerScene.toFixed(1)),
        postgres_server: Number(postgres.serverMsPerScene.toFixed(1)),
      },
    };
  } finally {
    await fake.stop();
    await s3.server.close();
    await pg.close();
  }
}

export function scaleoutMarkdown(r: BenchResult): string {
  const runs = r.runs as { workers: number; seconds: number; perMinute: number; split: string; submits: number; untilExitSeconds: number; ratio: number; cpuMsPerScene: number }[];
  const cpu = r.cpu_ms_per_scene as { sqlite_worker: number; postgres_worker: number; postgres_server: number };
  return [
    `${r.scenes} one-second scenes, ${r.processing_ms} ms processing each, ${r.concurrency_per_worker} at once per worker (ideal ${r.ideal_per_worker_per_minute} scenes/min per worker).`,
    '',
    table(
      ['workers', 'first submit → last clip', 'scenes/min', 'ratio to N × one worker', 'scenes per worker', 'submits', 'to last exit (stitching incl.)', 'worker CPU ms/scene (all workers)'],
      runs.map((x) => [x.workers, `${x.seconds} s`, x.perMinute, x.ratio.toFixed(3), x.split, x.submits, `${x.untilExitSeconds} s`, x.cpuMsPerScene]),
    ),
    '',
    table(
      ['store', 'worker CPU ms/scene', 'PostgreSQL server CPU ms/scene'],
      [
        ['SQLite + cache dir', cpu.sqlite_worker, '—'],
        ['PostgreSQL + S3', cpu.postgres_worker, cpu.postgres_server],
      ],
    ),
  ].join('\n');
}
