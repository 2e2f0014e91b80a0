import path from 'node:path';
import type { Writable } from 'node:stream';
import { DEFAULTS } from '../defaults.ts';
import { DuologueError } from '../errors.ts';
import { openStore, openStoreForReading, type Store } from '../cache/store.ts';
import { resolveFfmpegPaths, type FfmpegPaths } from '../media/ffmpeg.ts';
import { PROVIDERS, type ProviderId } from '../providers/info.ts';
import { parseOutTarget } from '../stitch/outputs/target.ts';

/** What every command gets from the CLI entry: streams, env, a signal. */
export interface CommandContext {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  cwd: string;
}

export function cacheDirOf(ctx: CommandContext, flag?: string): string {
  return path.resolve(ctx.cwd, flag ?? ctx.env.DUOLOGUE_CACHE_DIR ?? DEFAULTS.cacheDir);
}

/** `--store` / `--clips` as given (flag, else DUOLOGUE_STORE / DUOLOGUE_CLIPS). */
export interface SharedFlags {
  store?: string;
  clips?: string;
}

/** Where state and clips are shared by several machines; both undefined for this machine's cache dir alone. */
export interface Shared {
  /** A postgres:// URL (with its password: pass it on, never print it; see `redactUrl`). */
  storeUrl?: string;
  /** s3://bucket/prefix. */
  clipsUrl?: string;
}

/**
 * The shared store and clips of a command. A shared store without shared
 * clips is refused: every other machine would see renders complete whose
 * clips are on this one alone, and pay for them again.
 */
export function sharedOf(ctx: CommandContext, flags: SharedFlags): Shared {
  const storeUrl = flags.store ?? (ctx.env.DUOLOGUE_STORE || undefined);
  const clipsUrl = flags.clips ?? (ctx.env.DUOLOGUE_CLIPS || undefined);
  if (storeUrl !== undefined && clipsUrl === undefined) {
    throw new DuologueError(
      'E_USAGE',
      '--store (DUOLOGUE_STORE) needs --clips s3://bucket/prefix (DUOLOGUE_CLIPS) too: with a shared store, clips kept on one machine would be paid for again by the others',
    );
  }
  return { storeUrl, clipsUrl };
}

/** The cache's state; falls back to memory (with a note) when the dir cannot be written, for read-only commands. A shared store does not fall back: its error is the answer. */
export function openCacheForReading(ctx: CommandContext, dir: string, shared: Shared = {}): Promise<Store> {
  if (shared.storeUrl !== undefined) return openStore({ dir, url: shared.storeUrl });
  return openStoreForReading({ dir }, (error) => ctx.stderr.write(`note: ${error.message}; hashing without the memo this time\n`));
}

export function ffmpegOf(ctx: CommandContext): FfmpegPaths {
  return resolveFfmpegPaths(ctx.env);
}

/** --provider, else wavespeed when a key is set, else local. `needsKey: false` for commands that pay nothing (`plan` prices from the table). */
export function providerOf(ctx: CommandContext, flag?: string, { needsKey = true }: { needsKey?: boolean } = {}): ProviderId {
  if (flag !== undefined && flag !== 'wavespeed' && flag !== 'local') {
    throw new DuologueError('E_USAGE', `Expected \`--provider\` to be "wavespeed" or "local", got \`${flag}\``);
  }
  const hasKey = Boolean(ctx.env.WAVESPEED_API_KEY?.trim());
  if (flag === 'wavespeed' && !hasKey && needsKey) {
    throw new DuologueError('E_USAGE', '--provider wavespeed needs WAVESPEED_API_KEY in the environment (or use --provider local for a free offline preview)');
  }
  return (flag as ProviderId | undefined) ?? (hasKey ? 'wavespeed' : 'local');
}

export function providerInfo(id: ProviderId) {
  return PROVIDERS[id];
}

export function parseBudget(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim().replace(/^\$/, '');
  const n = Number(text);
  // Plain decimals only: Number() would also take "0x10" ($16) or "1e3" ($1,000) for a cap.
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) {
    throw new DuologueError('E_USAGE', `Expected \`--budget\` to be an amount of USD from 0 up, got \`${value}\``);
  }
  return n;
}

/**
 * `render --out`: a folder resolved against the command's cwd, or an s3:// URL checked here
 * (E_USAGE before anything is opened or paid; the message never repeats the URL).
 */
export function renderOutOf(ctx: CommandContext, flag?: string): string {
  const value = flag ?? DEFAULTS.outDir;
  const target = parseOutTarget(value, ctx.env, ctx.cwd);
  return target.kind === 's3' ? value.trim() : path.resolve(ctx.cwd, value);
}

/** `--out`, resolved against the command's cwd. */
export function outDirOf(ctx: CommandContext, flag?: string): string {
  return path.resolve(ctx.cwd, flag ?? DEFAULTS.outDir);
}
