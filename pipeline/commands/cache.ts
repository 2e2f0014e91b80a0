import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { openClipStore, type ClipStore } from '../cache/clips/index.ts';
import type { Store } from '../cache/interfaces.ts';
import { openStore, storeExists } from '../cache/store.ts';
import { DuologueError } from '../errors.ts';
import { sha256File } from '../media/hash.ts';
import { cacheDirOf, sharedOf, type CommandContext, type SharedFlags } from './context.ts';
import { gc, type GcOptions } from './gc.ts';

export interface CacheOptions extends GcOptions, SharedFlags {
  cacheDir?: string;
  fix?: boolean;
  json?: boolean;
}

/** `duologue cache stats|verify|gc`. */
export async function cacheCommand(action: string, manifests: string[], options: CacheOptions, ctx: CommandContext): Promise<number> {
  const dir = cacheDirOf(ctx, options.cacheDir);
  if (!['stats', 'verify', 'gc', 'attach'].includes(action)) throw new DuologueError('E_USAGE', `unknown cache action "${action}" (stats, verify, gc or attach)`);
  const shared = sharedOf(ctx, options);
  if (action === 'gc' && (shared.storeUrl !== undefined || shared.clipsUrl !== undefined)) {
    // gc removes what no run of this machine's cache uses: with shared state and clips, that is other machines' work.
    throw new DuologueError(
      'E_USAGE',
      'cache gc works on this machine\'s cache dir alone; it does not take --store or --clips (nor DUOLOGUE_STORE / DUOLOGUE_CLIPS): unset them to clean the local cache dir, and expire old clips with the bucket\'s lifecycle rules',
    );
  }
  if (shared.storeUrl === undefined && !(await storeExists(dir))) {
    ctx.stdout.write(`no cache at ${dir}\n`);
    return 0;
  }
  const store = await openStore({ dir, url: shared.storeUrl });
  const clips = await openClipStore({ clipsDir: path.join(dir, 'clips'), url: shared.clipsUrl, env: ctx.env }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  try {
    if (action === 'stats') return await stats(store, dir, ctx);
    if (action === 'verify') return await verify(store, clips, ctx, options.fix ?? false);
    if (action === 'attach') return await attach(store, manifests, ctx);
    return await gc(store, dir, manifests, options, ctx);
  } finally {
    await clips.close();
    await store.close();
  }
}

async function stats(store: Store, dir: string, ctx: CommandContext): Promise<number> {
  const s = await store.admin.stats();
  const storeBytes = dirSize(path.join(dir, 'clips'));
  const lines = [`cache: ${dir}`, `renders:`];
  for (const r of s.renders) lines.push(`  ${r.status.padEnd(10)} ${String(r.count).padStart(6)}${r.bytes ? `  ${mb(r.bytes)}` : ''}${r.costUsd ? `  $${r.costUsd.toFixed(2)} paid` : ''}`);
  if (s.renders.length === 0) lines.push('  none');
  lines.push(`clip store: ${mb(storeBytes)}`, `database: ${mb(s.storageBytes)}`, `media files remembered: ${s.mediaFiles}`, `uploads remembered: ${s.uploads}`, `runs: ${s.runs}, $${s.spentUsd.toFixed(2)} spent in all`);
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Re-hashes every stored clip against its recorded sha256. Exit 1 when something is damaged. */
async function verify(store: Store, clips: ClipStore, ctx: CommandContext, fix: boolean): Promise<number> {
  const rows = await store.admin.completeRenders();
  const damaged: string[] = [];
  for (const r of rows) {
    let problem: string | undefined;
    // A shared store's clip is downloaded (and hashed) when this machine has no copy.
    const clip = await clips.fetch(r, ctx.signal);
    if ('problem' in clip) problem = clip.problem.replace(/^clip /, '');
    else if ((await sha256File(clip.path)) !== r.clip_sha256) problem = 'content differs from the recorded sha256';
    if (problem) {
      damaged.push(`${r.episode_id}/${r.scene_id} (${r.key.slice(0, 12)}): ${problem}`);
      // Like a clip gone missing: a miss to render again, not a paid try held against the key.
      if (fix) await store.renders.forget(r.key, `clip ${problem}`);
    }
  }
  ctx.stdout.write(`verified ${rows.length} clip${rows.length === 1 ? '' : 's'}: ${rows.length - damaged.length} ok, ${damaged.length} damaged\n`);
  for (const d of damaged) ctx.stdout.write(`  damaged: ${d}${fix ? ' — forgotten; the next render re-renders it' : ''}\n`);
  if (damaged.length > 0 && !fix) ctx.stdout.write('run `duologue cache verify --fix` to forget damaged clips (the next render re-renders them, at a cost)\n');
  return damaged.length > 0 && !fix ? 1 : 0;
}

/**
 * `cache attach KEY PREDICTION_ID`: after an ambiguous submit, the operator
 * found the task on the provider's dashboard; record its id so the next
 * render polls and downloads it instead of paying again.
 */
async function attach(store: Store, args: string[], ctx: CommandContext): Promise<number> {
  const [prefix, predictionId] = args;
  if (!prefix || !predictionId || args.length !== 2) throw new DuologueError('E_USAGE', 'usage: duologue cache attach <key (or a unique prefix of 8+ characters)> <prediction id>');
  if (prefix.length < 8) throw new DuologueError('E_USAGE', `key prefix "${prefix}" is too short: give at least 8 characters (see \`duologue status\`)`);
  const rows = await store.admin.rendersByKeyPrefix(prefix);
  if (rows.length !== 1) throw new DuologueError('E_USAGE', rows.length === 0 ? `no render with a key starting "${prefix}"` : `"${prefix}" matches ${rows.length} renders; give more of the key`);
  const { row, holderAlive } = rows[0];
  if (row.status !== 'ambiguous' && row.status !== 'submitting') {
    throw new DuologueError('E_USAGE', `${row.episode_id}/${row.scene_id} is ${row.status}, not waiting on an ambiguous submit; nothing to attach`);
  }
  if (row.status === 'submitting' && holderAlive) {
    throw new DuologueError('E_USAGE', `${row.episode_id}/${row.scene_id} is being submitted right now by a running render (${row.owner}); wait for it to finish`);
  }
  if (!(await store.admin.attach(row.key, predictionId, row))) {
    throw new DuologueError('E_USAGE', `${row.episode_id}/${row.scene_id} changed while attaching (a render took it over); nothing attached: see \`duologue status\``);
  }
  ctx.stdout.write(`${row.episode_id}/${row.scene_id}: attached prediction ${predictionId}; the next render resumes it\n`);
  return 0;
}

function dirSize(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)).size;
  }
  return total;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
