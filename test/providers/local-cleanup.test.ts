import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import { until } from '../helpers/engine.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Files in work/local (the local renderer's output folder). */
const localFiles = (workDir: string) => (existsSync(path.join(workDir, 'local')) ? readdirSync(path.join(workDir, 'local')) : []);

describe('local provider: an interrupted render leaves nothing behind', () => {
  it('aborted while ffmpeg is writing: the temp output is removed', async () => {
    // A long scene (lines a minute apart), so ffmpeg is surely still writing when the abort comes.
    const { dir, manifest } = tinyProject(
      'version: 1\nepisodes:\n  - id: e\n    scenes:\n      - { id: long, image: two-people.png, lines: [{ left: tone-1s.wav }, { right: tone-1s.wav, pause: 60 }, { left: tone-1s.wav, pause: 60 }, { right: tone-1s.wav, pause: 60 }] }\n',
    );
    const workDir = mkdtempSync(path.join(tmpdir(), 'dl-local-abort-'));
    made.push(dir, workDir);
    const [task] = await plannedTasks(manifest, 'local');
    const provider = createLocalProvider({ workDir, ffmpeg });
    const controller = new AbortController();
    const { predictionId } = await provider.submit(task, { signal: controller.signal });

    await until(() => localFiles(workDir).some((f) => /tmp/.test(f)), 'ffmpeg to open its temp output');
    controller.abort();
    await provider.close?.(); // waits for the job to settle
    const result = await provider.poll(predictionId, task);

    expect(result.status).toBe('failed');
    expect(localFiles(workDir)).toEqual([]);
  });

  it("an earlier process's output is collected only when it checks out; a cut-short one is thrown away and redone (free)", async () => {
    const { dir, manifest } = tinyProject();
    const workDir = mkdtempSync(path.join(tmpdir(), 'dl-local-leftover-'));
    made.push(dir, workDir);
    const [task] = await plannedTasks(manifest, 'local');
    const first = createLocalProvider({ workDir, ffmpeg });
    const { predictionId } = await first.submit(task!);
    const done = await first.wait(predictionId, task!);
    expect(done.status).toBe('completed');
    const out = done.outputUrl!;

    // Another process (this one knows no job of that id) finds the whole file: collected.
    expect(await createLocalProvider({ workDir, ffmpeg }).poll(predictionId, task!)).toEqual({ status: 'completed', outputUrl: out });

    // Cut short (its writer died on a full disk): not collected as done, and removed.
    truncateSync(out, Math.floor(statSync(out).size / 3));
    const later = await createLocalProvider({ workDir, ffmpeg }).poll(predictionId, task!);
    expect(later.status).toBe('failed');
    expect(existsSync(out)).toBe(false);
  });
});
