/**
 * One episode that cannot be written does not take the run down with it:
 * the other episodes still stitch, the report and the NDJSON summary are
 * still written, the episode says why, and the run is recorded as finished.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { render } from '../../pipeline/run/render.ts';
import type { RunReport } from '../../pipeline/report/run-report.ts';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(manifest: string) {
  const { dir, manifest: file } = tinyProject(manifest);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-episodes-'));
  made.push(dir, cacheDir);
  return { dir, manifest: file, cacheDir, outDir: path.join(cacheDir, 'out') };
}

describe('a failure while finishing one episode', () => {
  it('`output:` that cannot be written (its folder is a file): that episode fails with the reason, the other is stitched, exit 1, and status shows the run finished', async () => {
    const { dir, manifest, cacheDir, outDir } = project(`version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    output: renders/ep1.mp4
    scenes:
      - { id: a, left: tone-1s.wav, seed: 1 }
  - id: ep2
    scenes:
      - { id: b, right: tone-1s.wav, seed: 2 }
`);
    writeFileSync(path.join(dir, 'renders'), 'a file where the output folder should be');
    const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', outDir, '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(1);

    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const summary = events.at(-1) as Extract<RunEvent, { type: 'summary' }>;
    expect(summary).toMatchObject({ type: 'summary', rendered: 2, failed: 0 });
    expect(summary.episodes).toEqual([
      { id: 'ep1', status: 'incomplete', output: null, error: expect.stringMatching(/folder of output ".*renders\/ep1\.mp4" cannot be created: a file stands where a folder should be/) },
      { id: 'ep2', status: 'complete', output: path.join(outDir, 'ep2.mp4') },
    ]);
    const ep1 = events.find((e) => e.type === 'episode' && e.episode === 'ep1') as Extract<RunEvent, { type: 'episode' }>;
    expect(ep1).toMatchObject({ status: 'incomplete', output: null, reason: expect.stringMatching(/not written: .*cannot be created/) });
    expect(existsSync(path.join(outDir, 'ep2.mp4'))).toBe(true);

    const report = JSON.parse(readFileSync(path.join(outDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.episodes.map((e) => [e.id, e.status])).toEqual([
      ['ep1', 'incomplete'],
      ['ep2', 'complete'],
    ]);
    expect(report.episodes[0].reason).toMatch(/cannot be created/);

    const status = await runCli(['status', '--cache-dir', cacheDir, '--json']);
    const [latest] = JSON.parse(status.stdout).runs;
    expect(latest).toMatchObject({ result: 'incomplete', finished_at: expect.any(String), note: expect.stringMatching(/ep1 not written: .*cannot be created/) });
    const text = await runCli(['status', '--cache-dir', cacheDir]);
    expect(text.stdout).toMatch(/#1 .* local +incomplete/);
    expect(text.stdout).toMatch(/#1: ep1 not written: .*cannot be created/);
  });

  it('an API error with an apostrophe on a slate (--allow-partial): the slate is drawn and every episode is stitched', async () => {
    const { manifest, cacheDir, outDir } = project(`version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
      - { id: ok, left: tone-1s.wav, seed: 1 }
      - { id: refused, right: tone-1s.wav, seed: 2 }
  - id: ep2
    scenes:
      - { id: c, left: tone-1s.wav, seed: 3 }
`);
    // The local renderer, except that one scene is refused the way an API refuses it.
    const local = createLocalProvider({ workDir: path.join(cacheDir, 'work'), ffmpeg });
    const provider: Provider = {
      ...local,
      async wait(id, task, options) {
        const result = await local.wait(id, task, options);
        return task.sceneId === 'refused' ? { status: 'failed', error: "the image doesn't show two faces: it's 100% [sure]" } : result;
      },
    };
    const events = new RunEvents();
    const seen: RunEvent[] = [];
    events.on('event', (e) => seen.push(e));
    const result = await render([manifest], { provider: 'local', providerInstance: provider, cacheDir, outDir, events, allowPartial: true });

    expect(result.episodes.map((e) => [e.id, e.status, e.stitch])).toEqual([
      ['ep1', 'incomplete', 'stitched'],
      ['ep2', 'complete', 'stitched'],
    ]);
    expect(existsSync(path.join(outDir, 'ep1.mp4'))).toBe(true);
    const sidecar = JSON.parse(readFileSync(path.join(outDir, 'ep1.mp4.json'), 'utf8'));
    expect(sidecar.scenes.map((s: { slate: boolean }) => s.slate)).toEqual([false, true]);
    expect(seen.at(-1)).toMatchObject({ type: 'summary', failed: 1 });
  });
});
