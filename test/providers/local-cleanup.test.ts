import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

});
