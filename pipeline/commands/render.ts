import { DuologueError, formatDiagnostic, redactUrl } from '../errors.ts';
import { RunEvents } from '../events.ts';
import { ACCOUNT_TIERS, TIER_SETTINGS, isTierSetting, type TierSetting } from '../providers/wavespeed/tiers.ts';
import { scaledPolicy, type WavespeedPolicy } from '../providers/wavespeed/policy.ts';
import { render } from '../run/render.ts';
import { parseRunName } from '../run/run-name.ts';
import { displayPath } from '../report/table.ts';
import { createTerminalView, type OutputMode } from '../report/terminal.ts';
import { cacheDirOf, ffmpegOf, parseBudget, providerOf, renderOutOf, sharedOf, type CommandContext } from './context.ts';

export interface RenderCommandOptions {
  provider?: string;
  budget?: string;
  concurrency?: string;
  tier?: string;
  episode?: string[];
  cacheDir?: string;
  out?: string;
  json?: boolean;
  retryAmbiguous?: boolean;
  retryHeld?: boolean;
  acceptLivePrices?: boolean;
  allowPartial?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  allowOutside?: boolean;
  store?: string;
  clips?: string;
  /** commander's --no-report sets this to false. */
  report?: boolean;
  run?: string;
}

/** Live bars only on an interactive terminal outside CI; plain lines otherwise. */
function outputMode(options: RenderCommandOptions, ctx: CommandContext): OutputMode {
  if (options.quiet) return 'quiet';
  if (options.verbose) return 'verbose';
  const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
  return tty && !isCi(ctx.env) ? 'live' : 'plain';
}

function useColor(ctx: CommandContext): boolean {
  return (ctx.stderr as { isTTY?: boolean }).isTTY === true && !('NO_COLOR' in ctx.env && ctx.env.NO_COLOR !== '') && !isCi(ctx.env);
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

/** `duologue render`: exit 0 all requested episodes complete, 1 some scene failed or skipped, 130 interrupted. */
export async function renderCommand(files: string[], options: RenderCommandOptions, ctx: CommandContext, argv: string[]): Promise<number> {
  const provider = providerOf(ctx, options.provider);
  const budgetUsd = parseBudget(options.budget);
  const concurrency = parseConcurrency(options.concurrency);
  const tier = parseTier(options.tier ?? (ctx.env.WAVESPEED_TIER || undefined));
  const shared = sharedOf(ctx, options);
  const out = renderOutOf(ctx, options.out);
  // Checked before anything is opened: a bad name is a usage error, not a run.
  const runName = options.run !== undefined ? parseRunName(options.run, '--run') : ctx.env.DUOLOGUE_RUN ? parseRunName(ctx.env.DUOLOGUE_RUN, 'DUOLOGUE_RUN') : undefined;
  const events = new RunEvents();
  const human = ctx.stderr; // stdout is kept for --json
  const view = createTerminalView({ stream: human, mode: outputMode(options, ctx), color: useColor(ctx) });
  events.on('event', (e) => {
    if (options.json) ctx.stdout.write(`${JSON.stringify(e)}\n`);
    view.onEvent(e);
  });
  if (!options.quiet) human.write(`provider: ${provider}\n`);
  let result;
  try {
    result = await render(files, {
      report: options.report !== false,
      provider,
      apiKey: ctx.env.WAVESPEED_API_KEY?.trim(),
      baseUrl: ctx.env.WAVESPEED_BASE_URL || undefined,
      cacheDir: cacheDirOf(ctx, options.cacheDir),
      storeUrl: shared.storeUrl,
      clipsUrl: shared.clipsUrl,
      env: ctx.env,
      outDir: out,
      budgetUsd,
      concurrency,
      tier,
      episodes: options.episode,
      signal: ctx.signal,
      events,
      ffmpeg: ffmpegOf(ctx),
      // The run's ledger keeps its command line: never a URL's password.
      args: argv.map(redactUrl),
      retryAmbiguous: options.retryAmbiguous,
      retryHeld: options.retryHeld,
      acceptLivePrices: options.acceptLivePrices,
      allowPartial: options.allowPartial,
      leaseMs: parseLease(ctx.env.DUOLOGUE_LEASE_SECONDS),
      policy: parseTimeScale(ctx.env.DUOLOGUE_TIME_SCALE, ctx.env.WAVESPEED_BASE_URL),
      allowOutside: options.allowOutside,
      runName,
    });
  } finally {
    view.close(); // the live block is drawn a last time and its timer stopped, whatever happened
  }
  if (result.report && !options.quiet) human.write(`report: ${displayPath(result.report, ctx.cwd)}\n`);
  if (!options.quiet) for (const w of result.warnings) human.write(`warning: ${formatDiagnostic(w)}\n`);
  if (result.schedule.interrupted) return 130;
  if (result.schedule.authError) throw result.schedule.authError;
  return result.episodes.every((e) => e.status === 'complete') ? 0 : 1;
}

/** `DUOLOGUE_LEASE_SECONDS`: how long a claim outlives a run that stopped renewing it (default 30). */
function parseLease(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.5 || seconds > 3600) {
    throw new DuologueError('E_USAGE', `Expected \`DUOLOGUE_LEASE_SECONDS\` to be a number of seconds from 0.5 to 3600, got \`${value}\``);
  }
  return Math.round(seconds * 1000);
}

/**
 * `DUOLOGUE_TIME_SCALE`: every wait of the WaveSpeed client (polls, backoff, deadlines) times
 * this factor, for a test server on this machine whose tasks finish in milliseconds. Refused
 * for any other server: polling the real API faster than its docs ask only earns 429s.
 */
function parseTimeScale(value: string | undefined, baseUrl: string | undefined): WavespeedPolicy | undefined {
  if (value === undefined || value === '') return undefined;
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
    throw new DuologueError('E_USAGE', `Expected \`DUOLOGUE_TIME_SCALE\` to be a number above 0 and at most 1, got \`${value}\``);
  }
  if (!isLoopback(baseUrl)) {
    throw new DuologueError('E_USAGE', 'DUOLOGUE_TIME_SCALE only applies to a test server on this machine (WAVESPEED_BASE_URL on localhost or 127.0.0.1); unset it for the real API');
  }
  return scaledPolicy(scale);
}

function isLoopback(baseUrl: string | undefined): boolean {
  if (!baseUrl) return false;
  try {
    const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Up to the highest account level's tasks at once (Ultra runs 10,000). */
const MAX_CONCURRENCY = Math.max(...Object.values(ACCOUNT_TIERS).map((t) => t.concurrentTasks));

function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new DuologueError('E_USAGE', `Expected \`--concurrency\` to be a whole number from 1 to ${MAX_CONCURRENCY}, got \`${value}\``);
  }
  return n;
}

/** `--tier` or `WAVESPEED_TIER`: bronze | silver | gold | ultra | auto. */
function parseTier(value: string | undefined): TierSetting | undefined {
  if (value === undefined) return undefined;
  const tier = value.trim().toLowerCase();
  if (!isTierSetting(tier)) {
    throw new DuologueError('E_USAGE', `Expected \`--tier\` (or WAVESPEED_TIER) to be one of ${TIER_SETTINGS.join(', ')}, got \`${value}\``);
  }
  return tier;
}
