/**
 * The command line: parses arguments (commander), runs a command, and is the
 * only place that turns errors into exit codes and text.
 */
import type { Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { DuologueError, ManifestErrors, formatDiagnostic, isAbort, redactUrl } from './errors.ts';
import type { CommandContext } from './commands/context.ts';
import { cacheCommand } from './commands/cache.ts';
import { planCommand } from './commands/plan.ts';
import { statusCommand } from './commands/status.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { renderCommand } from './commands/render.ts';
import { validateCommand } from './commands/validate.ts';
import { importCommand } from './commands/import.ts';
import { VERSION } from './version.ts';

export const EXIT = { ok: 0, incomplete: 1, usage: 2, interrupted: 130 } as const;

export interface CliOptions {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
  cwd?: string;
  /** Aborted on Ctrl-C by the bin script; tests pass their own. */
  signal?: AbortSignal;
}


export async function main(options: CliOptions): Promise<number> {
  const ctx: CommandContext = {
    env: options.env ?? process.env,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    signal: options.signal ?? new AbortController().signal,
    cwd: options.cwd ?? process.cwd(),
  };
  let exitCode: number = EXIT.ok;
  const program = buildProgram(
    ctx,
    (code) => {
      exitCode = code;
    },
    options.argv,
  );
  try {
    await program.parseAsync(options.argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return report(error, ctx);
  }
}

function buildProgram(ctx: CommandContext, setExit: (code: number) => void, argv: string[]): Command {
  const program = new Command('duologue')
    .description('Turn YAML manifests of two-speaker scenes into finished episode videos.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });
  const cacheDir = () => new Option('--cache-dir <dir>', 'cache location (env DUOLOGUE_CACHE_DIR)').default(undefined, './cache');
  const allowOutside = () => new Option('--allow-outside', "allow an episode's output: outside its manifest's folder and --out");
  /** The state and clips several machines share: the same two flags on every command that reads the cache. */
  const shared = (cmd: Command): Command =>
    cmd
      .addOption(new Option('--store <url>', 'postgres:// URL of a cache state shared by several machines (env DUOLOGUE_STORE; needs --clips)'))
      .addOption(new Option('--clips <url>', 's3://bucket/prefix where clips are shared, the cache dir a read-through copy (env DUOLOGUE_CLIPS; AWS_ENDPOINT_URL, credentials and region from the AWS environment)'));
  const provider = () => new Option('--provider <name>', 'wavespeed | local (default: wavespeed when WAVESPEED_API_KEY is set, else local)');

  program
    .command('validate')
    .description('check manifests and their media; exit 0 when all are valid, 2 with every error otherwise')
    .argument('<manifest...>', 'manifest files')
    .addOption(cacheDir())
    .option('--out <dir>', 'where episode files go when a manifest sets no output: (checked for clashes)', './out')
    .addOption(allowOutside())
    .action(async (files: string[], opts) => setExit(await validateCommand(files, opts, ctx)));

  shared(program
    .command('plan'))
    .description('show what a render would do and cost, scene by scene; spends nothing')
    .argument('<manifest...>', 'manifest files')
    .addOption(provider())
    .option('--budget <usd>', 'cap for this run in USD (overrides the manifests\' budget:)')
    .addOption(cacheDir())
    .option('--out <dir>', 'where episode files go when a manifest sets no output:', './out')
    .option('--json', 'print the plan as one JSON document')
    .option('--explain', 'say for every scene why it costs what it costs (what changed since its last render; why an episode is skipped)')
    .addOption(allowOutside())
    .action(async (files: string[], opts) => setExit(await planCommand(files, opts, ctx)));

  shared(program
    .command('render'))
    .description('render the scenes that are not cached (paying only for those), under a budget; resumes anything in flight')
    .argument('<manifest...>', 'manifest files')
    .addOption(provider())
    .option('--budget <usd>', 'cap for this run in USD (overrides the manifests\' budget:)')
    .option('--concurrency <n>', 'scenes rendering at once (default 4, or the --tier\'s tasks at once)')
    .option('--tier <level>', 'WaveSpeed account level that paces submits: bronze | silver | gold | ultra | auto (env WAVESPEED_TIER; default auto: learned from 429s)')
    .option('--episode <id>', 'render only this episode (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(cacheDir())
    .option('--out <dir|s3-url>', 'where episode files go when a manifest sets no output: a folder, or s3://bucket/prefix (each episode stitched once by one worker, uploaded verified; the report then goes to <cache>/report)', './out')
    .option('--json', 'NDJSON events on stdout, ending with a summary object')
    .option('--quiet', 'print only failures and the summary')
    .option('--verbose', 'print every event as a plain line (queued, money, retries)')
    .option('--no-report', 'do not write <out>/report.html and report.json')
    .option('--allow-partial', 'stitch episodes with failed or skipped scenes, a slate in each gap')
    .addOption(allowOutside())
    .option('--retry-ambiguous', 'resubmit scenes whose last submit may have been billed (check your dashboard first)')
    .option('--retry-held', 'submit once more the scenes held after two paid renders without a usable clip')
    .option('--accept-live-prices', "when WaveSpeed's live price differs from the price table, go on at the live price (reserving and recording it)")
    .option('--run <name>', 'join the run of this name: workers started with it share one --budget cap, one ledger entry, one report (env DUOLOGUE_RUN)')
    .action(async (files: string[], opts) => setExit(await renderCommand(files, opts, ctx, argv)));

  shared(program
    .command('status'))
    .description('recent runs and their spend, renders in flight, and submits that need attention; --reconcile [RUN]: what a run recorded per prediction against what WaveSpeed billed')
    .argument('[run]', 'for --reconcile: the run number (default: the last WaveSpeed run)')
    .addOption(cacheDir())
    .option('--json', 'print as one JSON document')
    .option('--reconcile', "compare the run's recorded cost per prediction with WaveSpeed's billing records; exit 1 when they differ (needs WAVESPEED_API_KEY)")
    .action(async (run: string | undefined, opts) => setExit(opts.reconcile ? await reconcileCommand(run, opts, ctx) : await statusCommand(opts, ctx)));

  shared(program
    .command('cache'))
    .description(
      'stats: sizes and counts · verify: re-hash the clip store · gc: remove leftovers, and clips no given manifest uses that no run used within --older-than (or any, with --all) · attach KEY ID: give an ambiguous submit the prediction id found on the dashboard',
    )
    .argument('<action>', 'stats | verify | gc | attach')
    .argument('[args...]', 'gc: manifests whose clips to keep; attach: key and prediction id')
    .addOption(cacheDir())
    .option('--older-than <age>', 'for gc: also remove clips no run has used for this long (12h, 30d, 2w), and scratch as old')
    .option('--all', 'for gc: remove every clip the given manifests do not use, however recently a run used it, and all scratch')
    .option('--dry-run', 'for gc: list what would be removed, remove nothing')
    .option('--fix', 'for verify: forget damaged clips so the next render redoes them')
    .action(async (action: string, manifests: string[], opts) => setExit(await cacheCommand(action, manifests, opts, ctx)));

  program
    .command('import')
    .description("turn a Fountain screenplay into a manifest: scene headings become scenes, the two characters' dialogue becomes say: lines (voiced by text-to-speech)")
    .argument('<script>', 'a .fountain screenplay')
    .requiredOption('--left <name>', 'the character voiced on the left (as written in the script)')
    .requiredOption('--right <name>', 'the character voiced on the right')
    .option('--image <file>', 'the image of the two speakers (defaults.image)')
    .option('--episode <id>', "the episode's id (default: from the script's title)")
    .option('--left-voice <id>', 'voice id for the left speaker', 'Wise_Woman')
    .option('--right-voice <id>', 'voice id for the right speaker', 'Deep_Voice_Man')
    .option('-o, --output <file>', 'write the manifest here (default: stdout)')
    .option('--force', 'replace --output if it exists')
    .action(async (file: string, opts) => setExit(await importCommand(file, opts, ctx)));

  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  }
  return program;
}

/** A URL's password, and the secrets of the shared store's environment, never printed. */
function redact(text: string, ctx: CommandContext): string {
  let out = redactUrl(text);
  for (const secret of [ctx.env.AWS_SECRET_ACCESS_KEY, ctx.env.AWS_SESSION_TOKEN, passwordOf(ctx.env.DUOLOGUE_STORE)]) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

function passwordOf(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Error → text on stderr → exit code. Nothing else in duologue decides exit codes. */
function report(error: unknown, ctx: CommandContext): number {
  if (error instanceof CommanderError) {
    // --help and --version end with a CommanderError too, with exit code 0.
    if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    return EXIT.usage; // commander already printed the message
  }
  if (isAbort(error)) {
    ctx.stderr.write('interrupted\n');
    return EXIT.interrupted;
  }
  if (error instanceof ManifestErrors) {
    const errors = error.diagnostics.filter((d) => d.severity === 'error');
    for (const d of errors) ctx.stderr.write(`error: ${formatDiagnostic(d)}\n`);
    ctx.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was submitted\n`);
    return EXIT.usage;
  }
  if (error instanceof DuologueError) {
    ctx.stderr.write(`error [${error.code}]: ${redact(error.message, ctx)}\n`);
    if (error.code === 'E_USAGE' || error.code === 'E_MANIFEST' || error.code === 'E_INPUT') return EXIT.usage;
    // E_STORE (the shared clip store) like E_CACHE: the run stopped short; what is recorded stands, the next run resumes.
    return EXIT.incomplete;
  }
  const detail = ctx.env.DUOLOGUE_DEBUG ? ((error as Error)?.stack ?? String(error)) : String((error as Error)?.message ?? error);
  ctx.stderr.write(`internal error: ${redact(detail, ctx)}\n(this is a bug in duologue; set DUOLOGUE_DEBUG=1 for the stack)\n`);
  return EXIT.incomplete;
}
