import { formatDiagnostic } from '../errors.ts';
import { planManifests } from '../run/plan-manifests.ts';
import { PROVIDERS } from '../providers/info.ts';
import { displayPath } from '../report/table.ts';
import { cacheDirOf, ffmpegOf, openCacheForReading, outDirOf, type CommandContext } from './context.ts';

export interface ValidateOptions {
  cacheDir?: string;
  out?: string;
  allowOutside?: boolean;
}

/** `duologue validate`: exit 0 with a line per manifest, or throws ManifestErrors (all of them). */
export async function validateCommand(files: string[], options: ValidateOptions, ctx: CommandContext): Promise<number> {
  const cacheDir = cacheDirOf(ctx, options.cacheDir);
  const store = await openCacheForReading(ctx, cacheDir);
  try {
    // Checked as `plan` would check them, under today's price table's length rules; nothing is priced or looked up.
    const { prepared, warnings } = await planManifests(files, {
      store, cacheDir, ffmpeg: ffmpegOf(ctx), provider: PROVIDERS.wavespeed, signal: ctx.signal,
      outputs: { outDir: outDirOf(ctx, options.out), allowOutside: options.allowOutside },
    });
    for (const m of prepared.series.manifests) {
      const episodes = prepared.series.episodes.filter((e) => m.episodes.includes(e.id));
      const scenes = episodes.reduce((n, e) => n + e.scenes.length, 0);
      const name = displayPath(m.file, ctx.cwd);
      ctx.stdout.write(`${name}: valid — ${m.title ? `"${m.title}", ` : ''}${episodes.length} episode${episodes.length === 1 ? '' : 's'}, ${scenes} scene${scenes === 1 ? '' : 's'}\n`);
    }
    for (const w of warnings) ctx.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
