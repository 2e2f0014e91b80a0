import { formatDiagnostic } from '../errors.ts';
import { RunEvents } from '../events.ts';
import { render } from '../render.ts';
import { eventLine } from '../report/run-text.ts';
import { cacheDirOf, ffmpegOf, parseBudget, providerOf, type CommandContext } from './context.ts';
import { DuologueError } from '../errors.ts';
import path from 'node:path';

export interface RenderCommandOptions {
  provider?: string;
  budget?: string;
  concurrency?: string;
  episode?: string[];
  cacheDir?: string;
  out?: string;
  json?: boolean;
  retryAmbiguous?: boolean;
  allowPartial?: boolean;
}

/** `duologue render`: exit 0 all requested episodes complete, 1 some scene failed or skipped, 130 interrupted. */
export async function renderCommand(files: string[], options: RenderCommandOptions, ctx: CommandContext, argv: string[]): Promise<number> {
  const provider = providerOf(ctx, options.provider);
  const budgetUsd = parseBudget(options.budget);
  const concurrency = parseConcurrency(options.concurrency);
  const events = new RunEvents();
  const human = ctx.stderr; // stdout is kept for --json
  events.on('event', (e) => {
    if (options.json) ctx.stdout.write(`${JSON.stringify(e)}\n`);
    const line = eventLine(e);
    if (line) human.write(`${line}\n`);
  });
  human.write(`provider: ${provider}\n`);
  const result = await render(files, {
    provider,
    apiKey: ctx.env.WAVESPEED_API_KEY?.trim(),
    baseUrl: ctx.env.WAVESPEED_BASE_URL || undefined,
    cacheDir: cacheDirOf(ctx, options.cacheDir),
    outDir: path.resolve(ctx.cwd, options.out ?? './out'),
    budgetUsd,
    concurrency,
    episodes: options.episode,
    signal: ctx.signal,
    events,
    ffmpeg: ffmpegOf(ctx),
    args: argv,
    retryAmbiguous: options.retryAmbiguous,
    allowPartial: options.allowPartial,
  });
  for (const w of result.warnings) human.write(`warning: ${formatDiagnostic(w)}\n`);
  if (result.schedule.interrupted) return 130;
  if (result.schedule.authError) throw result.schedule.authError;
  return result.episodes.every((e) => e.status === 'complete') ? 0 : 1;
}

function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new DuologueError('E_USAGE', `Expected \`--concurrency\` to be a whole number from 1 to 64, got \`${value}\``);
  }
  return n;
}
