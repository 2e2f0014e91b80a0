import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg, type FfmpegPaths } from '../media/ffmpeg.ts';
import { reportHtml } from './html.ts';
import { buildRunReport, type ReportInput } from './run-report.ts';

/** A frame from the middle of the clip, 320 px wide. */
export function thumbnailArgs(clip: string, atSeconds: number, out: string): string[] {
  return ['-ss', atSeconds.toFixed(2), '-i', clip, '-frames:v', '1', '-vf', 'scale=320:-2', '-q:v', '4', '-f', 'image2', out];
}

/**
 * Writes `<dir>/report.json` and `<dir>/report.html` (with thumbnails in
 * `<dir>/report-assets/`), each to a temp name then renamed.
 */
export async function writeRunReport(
  dir: string,
  input: Omit<ReportInput, 'reportDir' | 'thumbnails'>,
  options: { ffmpeg: FfmpegPaths; signal?: AbortSignal },
): Promise<{ html: string; json: string }> {
  const assets = path.join(dir, 'report-assets');
  await mkdir(assets, { recursive: true });
  const thumbnails = new Map<string, string>();
  for (const s of input.scenes) {
    // A clip another worker rendered may be only in the shared store: no thumbnail rather than a download.
    if (!s.clip || thumbnails.has(s.scene.key) || (s.remote && !existsSync(s.clip))) continue;
    const out = path.join(assets, `${s.scene.key.slice(0, 16)}.jpg`);
    if (!existsSync(out)) {
      try {
        // One frame after a seek: the base timeout is plenty.
        await runFfmpeg(thumbnailArgs(s.clip, s.scene.videoSeconds / 2, `${out}.tmp`), options.ffmpeg, { signal: options.signal, label: `thumbnail ${s.scene.sceneId}`, mediaSeconds: 0 });
        await rename(`${out}.tmp`, out);
      } catch {
        continue; // a missing thumbnail must not fail the run
      }
    }
    thumbnails.set(s.scene.key, out);
  }
  const report = buildRunReport({ ...input, reportDir: dir, thumbnails });
  const json = path.join(dir, 'report.json');
  const html = path.join(dir, 'report.html');
  await writeFile(`${json}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${json}.tmp`, json);
  await writeFile(`${html}.tmp`, reportHtml(report));
  await rename(`${html}.tmp`, html);
  return { html, json };
}
