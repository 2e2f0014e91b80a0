/**
 * Bench: end to end, the time until the last episode file is written, for
 * the old order (every scene, then the episodes one after another) and the
 * pipelined one (each clip conformed as it lands, each episode stitched as
 * its last scene lands), the latter under both submission orders: longest
 * first across the run (`lpt`) and episode by episode (the default,
 * schedule/order.ts), in one run. 8 episodes × 10 scenes through the real
 * render() (SQLite, real ffmpeg conforms and stitches) and a simulated
 * provider in this process: it delivers a real pre-rendered clip of the
 * scene's length after processing time proportional to it (no CPU of its
 * own, unlike the fake server, which renders its outputs), scaled so the
 * remote makespan equals the local ffmpeg work as measured just before on
 * the same pool: remote and local work of the same order.
 * Lower bound = max(remote makespan at the concurrency, local ffmpeg work ÷
 * cores) + the last episode's concat and audio encode. Reported per case
 * (`mixed` and `equal` lengths, CASES): each order's time ÷ lower bound
 * (target ≤ 1.10) and the time to the first finished episode, all from the
 * `run` event (planning excluded).
 * Run: npm run bench -- end2end
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { RunEvents } from '../../pipeline/events.ts';
import { resolveFfmpegPaths, runFfmpeg, type FfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { render } from '../../pipeline/run/render.ts';
import { conformClip } from '../../pipeline/stitch/conform.ts';
import { stitchEpisode } from '../../pipeline/stitch/episode.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';
import { listScheduleMakespan } from '../../pipeline/schedule/list-schedule.ts';
import { submissionOrder } from '../../pipeline/schedule/order.ts';
import { createLocalPool } from '../../pipeline/stitch/pool.ts';
import { table, type BenchResult } from './markdown.ts';
import { sized } from './options.ts';

const EPISODES = sized(8, 2);
const SCENES = sized(10, 3);
const CONCURRENCY = 4;
const LENGTHS = [3, 4, 5, 6];
type LengthOf = (episode: number, scene: number) => number;
/**
 * `mixed`: lengths cycle through 3–6 s in every episode, so longest-first
 * interleaves the episodes and most complete only near the end; `equal`:
 * every scene 4 s, so the tie-break completes episodes one after another.
 */
const CASES: Record<string, LengthOf> = {
  mixed: (e, s) => LENGTHS[(e * 3 + s) % LENGTHS.length],
  equal: () => 4,
};

/** CPU seconds of this process's finished children (ffmpeg), from /proc (Linux): what "local work" is. */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime), in clock ticks (100 per second on Linux).
  return (Number(rest[13]) + Number(rest[14])) / 100;
}

/** A talking-head-like clip: a picture and a gated tone, as InfiniteTalk's 25 fps mp4 with audio. */
async function sourceClip(file: string, seconds: number, ffmpeg: FfmpegPaths): Promise<void> {
  await runFfmpeg(
    ['-y', '-f', 'lavfi', '-i', `testsrc=size=854x480:rate=25:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=220:sample_rate=48000:duration=${seconds}`,
      '-af', "volume='if(lt(mod(t,1.3),0.8),0.6,0.05)':eval=frame", '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file],
    ffmpeg,
  );
}

function project(dir: string, name: string, lengthOf: LengthOf, ffmpegWav: (s: number) => string): string {
  const lines = ['version: 1', 'defaults: { image: two-people.png }', 'episodes:'];
  for (let e = 0; e < EPISODES; e++) {
    lines.push(`  - id: ep${e + 1}`, '    scenes:');
    for (let s = 0; s < SCENES; s++) lines.push(`      - { id: s${s + 1}, left: ${ffmpegWav(lengthOf(e, s))} }`);
  }
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The "remote" side: each task takes msPerSecond × its length, then hands over a real clip of that length. */
function simulatedProvider(clips: Map<number, string>, msPerSecond: number): Provider {
  let n = 0;
  return {
    info: PROVIDERS.local,
    submit: async () => ({ predictionId: `sim-${++n}` }),
    poll: async () => ({ status: 'processing' }),
    wait: async (_id, task) => {
      await new Promise((r) => setTimeout(r, task.videoSeconds * msPerSecond));
      return { status: 'completed', outputUrl: 'sim://clip' };
    },
    download: async (_r, task, dest) => {
      mkdirSync(path.dirname(dest), { recursive: true });
      copyFileSync(clips.get(Math.round(task.videoSeconds))!, dest);
      return { path: dest, bytes: 1, durationSeconds: task.videoSeconds };
    },
  };
}

/** LPT on `slots` workers (what the scheduler's longest-first order does): the remote makespan. */
function lptMakespan(lengths: number[], slots: number): number {
  const free = new Array<number>(slots).fill(0);
  for (const l of [...lengths].sort((a, b) => b - a)) {
    free.sort((a, b) => a - b);
    free[0] += l;
  }
  return Math.max(...free);
}

export async function benchEnd2End(): Promise<BenchResult> {
  const ffmpeg = resolveFfmpegPaths();
  const cores = availableParallelism();
  const root = mkdtempSync(path.join(tmpdir(), 'duologue-bench-e2e-'));
  const media = path.join(root, 'media');
  mkdirSync(media);
  copyFileSync(path.join(import.meta.dirname, '../fixtures/media/two-people.png'), path.join(media, 'two-people.png'));
  const clips = new Map<number, string>();
  for (const len of LENGTHS) {
    await runFfmpeg(['-y', '-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=16000:duration=${len}`, path.join(media, `a${len}.wav`)], ffmpeg);
    clips.set(len, path.join(media, `clip${len}.mp4`));
    await sourceClip(clips.get(len)!, len, ffmpeg);
  }
  const cases: BenchResult[] = [];
  for (const [name, lengthOf] of Object.entries(CASES)) cases.push(await runCase(name, lengthOf, { root: path.join(root, name), media, clips, ffmpeg, cores }));
  return { cores, cases, target: 'pipelined ratio <= 1.10' };
}

interface Shared {
  root: string;
  media: string;
  clips: Map<number, string>;
  ffmpeg: FfmpegPaths;
  cores: number;
}

async function runCase(name: string, lengthOf: LengthOf, { root, media, clips, ffmpeg, cores }: Shared): Promise<BenchResult> {
  const manifest = project(media, name, lengthOf, (s) => `a${s}.wav`);
  const lengths = Array.from({ length: EPISODES * SCENES }, (_, i) => lengthOf(Math.floor(i / SCENES), i % SCENES));
  const totalSeconds = lengths.reduce((a, b) => a + b, 0);

  // Calibration: the local work alone, on the same pool the run uses (its CPU time, and its wall
  // time on this machine as loaded now): every conform, every stitch but the last, then the last alone.
  const format = episodeFormat(['480p']);
  const calib = path.join(root, 'calibrate');
  const pool = createLocalPool({ size: cores });
  const stitchOne = (e: number) =>
    stitchEpisode(
      {
        episodeId: `ep${e + 1}`,
        output: path.join(calib, 'out', `ep${e + 1}.mp4`),
        format,
        scenes: Array.from({ length: SCENES }, (_, s) => ({ sceneId: `s${s}`, title: `s${s}`, clip: clips.get(lengthOf(e, s))!, identity: `e${e}s${s}`, seed: 0, expectedSeconds: lengthOf(e, s) })),
      },
      { workDir: path.join(calib, 'work'), ffmpeg },
    );
  const cpu0 = childCpuSeconds();
  const w0 = performance.now();
  await Promise.all(
    lengths.map((len, i) => pool.run('conform', () => conformClip(clips.get(len)!, `e${Math.floor(i / SCENES)}s${i % SCENES}`, format, { dir: path.join(calib, 'work', 'conformed'), ffmpeg }))),
  );
  await Promise.all(Array.from({ length: EPISODES - 1 }, (_, e) => pool.run('stitch', () => stitchOne(e))));
  const localBeforeLast = (performance.now() - w0) / 1000;
  const w1 = performance.now();
  await stitchOne(EPISODES - 1);
  const lastStitch = (performance.now() - w1) / 1000;
  const localCpu = childCpuSeconds() - cpu0;
  // Remote work scaled to the local work: the LPT makespan at the concurrency equals the local work's
  // wall time here (at least its CPU time ÷ cores; more when other processes share the cores), so the
  // lower bound's max() is that, plus the last stitch.
  const msPerSecond = (localBeforeLast * 1000) / lptMakespan(lengths, CONCURRENCY);
  const remoteMakespan = (lptMakespan(lengths, CONCURRENCY) * msPerSecond) / 1000;
  const lowerBound = Math.max(remoteMakespan, localCpu / cores) + lastStitch;

  const once = async (finishOrder: 'after-scenes' | 'as-scenes-land', order: 'longest-first' | 'lpt' = 'longest-first') => {
    const cacheDir = path.join(root, `${finishOrder}-${order}`);
    const events = new RunEvents();
    let t0 = 0;
    const episodeAt: number[] = [];
    let lastScene = 0;
    events.on('event', (e) => {
      if (process.env.BENCH_TRACE) console.error(((performance.now() - t0) / 1000).toFixed(2), e.type, 'episode' in e ? e.episode : '', 'scene' in e ? e.scene : '');
      if (e.type === 'run') t0 = performance.now();
      if (e.type === 'done') lastScene = (performance.now() - t0) / 1000;
      if (e.type === 'episode' && e.output) episodeAt.push((performance.now() - t0) / 1000);
    });
    const result = await render([manifest], {
      provider: 'local',
      providerInstance: simulatedProvider(clips, msPerSecond),
      cacheDir,
      outDir: path.join(cacheDir, 'out'),
      concurrency: CONCURRENCY,
      events,
      report: false,
      finishOrder,
      order,
    });
    const written = result.episodes.filter((e) => e.stitch === 'stitched').length;
    if (written !== EPISODES) throw new Error(`${finishOrder}: ${written} of ${EPISODES} episodes written`);
    return { last: Math.max(...episodeAt), first: Math.min(...episodeAt), lastScene };
  };
  const old = await once('after-scenes', 'lpt');
  const lpt = await once('as-scenes-land', 'lpt');
  const piped = await once('as-scenes-land');
  // The submission order's own cost in remote makespan, projected on the lanes (no timing noise).
  const jobs = lengths.map((videoSeconds, i) => ({ videoSeconds, action: 'render' as const, episodeId: `ep${Math.floor(i / SCENES)}` }));
  const projected = listScheduleMakespan(submissionOrder(jobs, { slots: CONCURRENCY }).map((j) => j.videoSeconds), CONCURRENCY) / lptMakespan(lengths, CONCURRENCY);
  const r = (x: number) => Number(x.toFixed(2));
  return {
    case: name,
    episodes: EPISODES,
    scenes_per_episode: SCENES,
    video_seconds: totalSeconds,
    concurrency: CONCURRENCY,
    local_ffmpeg_cpu_s: r(localCpu),
    local_cpu_per_core_s: r(localCpu / cores),
    local_wall_before_last_stitch_s: r(localBeforeLast),
    remote_makespan_s: r(remoteMakespan),
    last_stitch_s: r(lastStitch),
    lower_bound_s: r(lowerBound),
    old_last_scene_s: r(old.lastScene),
    old_last_episode_s: r(old.last),
    old_ratio: r(old.last / lowerBound),
    old_first_episode_s: r(old.first),
    lpt_pipelined_last_scene_s: r(lpt.lastScene),
    lpt_pipelined_last_episode_s: r(lpt.last),
    lpt_pipelined_ratio: r(lpt.last / lowerBound),
    lpt_pipelined_first_episode_s: r(lpt.first),
    order_projected_makespan_vs_lpt: Number(projected.toFixed(3)),
    pipelined_last_scene_s: r(piped.lastScene),
    pipelined_last_episode_s: r(piped.last),
    pipelined_ratio: r(piped.last / lowerBound),
    pipelined_first_episode_s: r(piped.first),
  };
}

export function end2endMarkdown(result: BenchResult): string {
  const cases = result.cases as Record<string, number | string>[];
  const s = (x: number | string) => (typeof x === 'number' ? `${x} s` : x);
  return table(
    ['case', 'local CPU ÷ cores', 'remote makespan', 'last stitch', 'lower bound', 'old: last episode (÷ bound)', 'old: first episode', 'pipelined, LPT order: last episode (÷ bound)', 'pipelined, LPT order: first episode', 'pipelined: last episode (÷ bound)', 'pipelined: first episode', 'last scene delivered (old / LPT pipelined / pipelined)', 'order\'s projected makespan ÷ LPT\'s'],
    cases.map((c) => [
      `${c.case}: ${c.episodes} × ${c.scenes_per_episode}, ${c.video_seconds} video s`,
      s(c.local_cpu_per_core_s),
      s(c.remote_makespan_s),
      s(c.last_stitch_s),
      s(c.lower_bound_s),
      `${s(c.old_last_episode_s)} (${c.old_ratio})`,
      s(c.old_first_episode_s),
      `${s(c.lpt_pipelined_last_episode_s)} (${c.lpt_pipelined_ratio})`,
      s(c.lpt_pipelined_first_episode_s),
      `**${s(c.pipelined_last_episode_s)} (${c.pipelined_ratio})**`,
      s(c.pipelined_first_episode_s),
      `${s(c.old_last_scene_s)} / ${s(c.lpt_pipelined_last_scene_s)} / ${s(c.pipelined_last_scene_s)}`,
      c.order_projected_makespan_vs_lpt,
    ]),
  );
}
