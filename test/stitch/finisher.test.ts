/**
 * Episodes are finished while the rest renders: an episode's file is written
 * (and its `episode` event sent) before the run's last scene is delivered;
 * an episode of cache hits is written at the start; a Ctrl-C during a
 * conform or a stitch leaves no half-written file, and the next run finishes.
 * Scenes finish when the test says (a gate per scene), never on a timer.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { render, type RenderOptions } from '../../pipeline/run/render.ts';
import { until } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(manifest: string) {
  const { dir, manifest: file } = tinyProject(manifest);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-finisher-'));
  made.push(dir, cacheDir);
  return { dir, manifest: file, cacheDir, outDir: path.join(cacheDir, 'out') };
}

/** The local renderer, except that a gated scene's render is not finished until the test opens its gate. */
function gatedProvider(cacheDir: string, gates: Record<string, Promise<unknown>>): Provider {
  const local = createLocalProvider({ workDir: path.join(cacheDir, 'work'), ffmpeg });
  return {
    ...local,
    async wait(id, task, options) {
      await gates[task.sceneId];
      return local.wait(id, task, options);
    },
  };
}

function opened(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

async function run(manifest: string, cacheDir: string, outDir: string, provider: Provider, extra: Partial<RenderOptions> = {}, onEvent: (e: RunEvent) => void = () => {}) {
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('event', (e) => {
    seen.push(e);
    onEvent(e);
  });
  const result = await render([manifest], { provider: 'local', providerInstance: provider, cacheDir, outDir, events, report: false, ...extra });
  return { result, seen };
}

/** Every temp name the pipeline writes has `.tmp` in it; none may be left under these folders. */
function leftovers(...dirs: string[]): string[] {
  return dirs.flatMap((dir) => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('.tmp')) : []));
}

const order = (seen: RunEvent[], type: RunEvent['type'], episode: string) => seen.findIndex((e) => e.type === type && 'episode' in e && e.episode === episode);

const TWO = (seedB: number) => `version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
      - { id: a, left: tone-1s.wav, seed: 1 }
  - id: ep2
    scenes:
      - { id: b, right: tone-1s.wav, seed: ${seedB} }
`;

describe('finishing episodes while rendering', () => {
  it("writes an episode before the run's last scene completes; an episode of cache hits is written first thing", async () => {
    const { manifest, cacheDir, outDir } = project(TWO(2));
    // ep2's only scene is held until ep1's file is announced: only a pipelined run can finish.
    const ep1Written = opened();
    let ep1FileAtEvent = false;
    const first = await run(manifest, cacheDir, outDir, gatedProvider(cacheDir, { b: ep1Written.promise }), {}, (e) => {
      if (e.type === 'episode' && e.episode === 'ep1') {
        ep1FileAtEvent = existsSync(path.join(outDir, 'ep1.mp4'));
        ep1Written.open();
      }
    });
    expect(ep1FileAtEvent).toBe(true);
    expect(order(first.seen, 'episode', 'ep1')).toBeLessThan(order(first.seen, 'done', 'ep2'));
    expect(order(first.seen, 'done', 'ep2')).toBeLessThan(order(first.seen, 'episode', 'ep2'));
    expect(first.result.episodes.map((e) => [e.id, e.status, e.stitch])).toEqual([
      ['ep1', 'complete', 'stitched'],
      ['ep2', 'complete', 'stitched'],
    ]);
    // One episode event each, and the summary as before.
    expect(first.seen.filter((e) => e.type === 'episode')).toHaveLength(2);
    expect(first.seen.at(-1)).toMatchObject({ type: 'summary', rendered: 2, episodes: [{ id: 'ep1', status: 'complete' }, { id: 'ep2', status: 'complete' }] });

    // ep2 changes; ep1 is all cache hits: it is settled (up to date) before ep2's new render is delivered,
    // and without any ffmpeg work (its conformed copies are gone: an up-to-date episode needs none).
    writeFileSync(manifest, TWO(3));
    const conformed = path.join(cacheDir, 'work', 'conformed');
    rmSync(conformed, { recursive: true, force: true });
    const ep1Settled = opened();
    const second = await run(manifest, cacheDir, outDir, gatedProvider(cacheDir, { b: ep1Settled.promise }), {}, (e) => {
      if (e.type === 'episode' && e.episode === 'ep1') ep1Settled.open();
    });
    expect(order(second.seen, 'episode', 'ep1')).toBeLessThan(order(second.seen, 'done', 'ep2'));
    expect(second.result.episodes.map((e) => [e.id, e.stitch])).toEqual([
      ['ep1', 'up-to-date'],
      ['ep2', 'stitched'],
    ]);
    const records = readdirSync(conformed, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(records).toHaveLength(1); // ep2's new clip only
  }, 60_000);

  it('the old order (all scenes, then all episodes) is still there to measure against', async () => {
    const { manifest, cacheDir, outDir } = project(TWO(2));
    const { seen } = await run(manifest, cacheDir, outDir, gatedProvider(cacheDir, {}), { finishOrder: 'after-scenes' });
    const lastDone = seen.map((e) => e.type).lastIndexOf('done');
    expect(order(seen, 'episode', 'ep1')).toBeGreaterThan(lastDone);
    expect(existsSync(path.join(outDir, 'ep2.mp4'))).toBe(true);
  }, 60_000);

  for (const step of ['conform', 'stitch'] as const) {
    it(`Ctrl-C during a ${step}: nothing half-written is left, the run says interrupted, and the next run finishes the episode`, async () => {
      const { manifest, cacheDir, outDir } = project(`version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
      - { id: a, left: tone-1s.wav, seed: 1 }
      - { id: b, right: tone-1s.wav, seed: 2 }
`);
      // An ffmpeg that, at the chosen step, starts its output (half-written), says so, and hangs until killed.
      const marker = path.join(cacheDir, `hung-${step}`);
      const wrapper = path.join(cacheDir, 'ffmpeg-hang.sh');
      const target = step === 'conform' ? '*/conformed/*.tmp.mp4' : `${outDir}/*.tmp.mp4`;
      writeFileSync(
        wrapper,
        `#!/bin/sh\nfor a in "$@"; do case "$a" in ${target}) printf half > "$a"; : > "${marker}"; exec sleep 60;; esac; done\nexec "${ffmpeg.ffmpeg}" "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      // During a conform the run still waits for scene b; during the stitch every scene is in.
      const bGate = opened();
      const gates: Record<string, Promise<void>> = step === 'conform' ? { b: bGate.promise } : {};
      const stop = new AbortController();
      const pending = run(manifest, cacheDir, outDir, gatedProvider(cacheDir, gates), { signal: stop.signal, ffmpeg: { ...ffmpeg, ffmpeg: wrapper } });
      await until(() => existsSync(marker), `a hung ${step}`, 30_000);
      stop.abort();
      bGate.open();
      const { result, seen } = await pending;

      expect(result.schedule.interrupted).toBe(true);
      expect(leftovers(outDir, path.join(cacheDir, 'work'))).toEqual([]);
      expect(existsSync(path.join(outDir, 'ep1.mp4'))).toBe(false);
      expect(result.episodes[0]).toMatchObject({ id: 'ep1', output: null });
      expect(seen.at(-1)).toMatchObject({ type: 'summary', interrupted: true });

      const next = await run(manifest, cacheDir, outDir, gatedProvider(cacheDir, {}));
      expect(next.result.schedule.interrupted).toBe(false);
      expect(next.result.episodes.map((e) => [e.id, e.status, e.stitch])).toEqual([['ep1', 'complete', 'stitched']]);
      expect(existsSync(path.join(outDir, 'ep1.mp4'))).toBe(true);
    }, 60_000);
  }
});
