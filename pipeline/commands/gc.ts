/**
 * `duologue cache gc`: removes clips nothing says are wanted, and what
 * interrupted processes left behind; says how much it freed.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { clipPath } from '../cache/clips/index.ts';
import { clipVerdict, type ClipVerdict } from '../cache/gc/rule.ts';
import { remove, sweep } from '../cache/gc/sweep.ts';
import type { CacheUser, Store, StoredClip } from '../cache/interfaces.ts';
import { pidAlive } from '../cache/owner.ts';
import { DuologueError } from '../errors.ts';
import { planManifests } from '../run/plan-manifests.ts';
import { PROVIDERS } from '../providers/info.ts';
import { ffmpegOf, type CommandContext } from './context.ts';

export interface GcOptions {
  olderThan?: string;
  all?: boolean;
  dryRun?: boolean;
}

export async function gc(store: Store, dir: string, manifests: string[], options: GcOptions, ctx: CommandContext): Promise<number> {
  if (options.all && options.olderThan !== undefined) {
    throw new DuologueError('E_USAGE', '--all removes every clip the given manifests do not use, whatever its age; --older-than AGE removes those no run used for AGE: give one of them');
  }
  const maxAgeMs = options.olderThan === undefined ? undefined : parseAge(options.olderThan);
  const keep = await manifestKeys(store, dir, manifests, ctx);
  const now = Date.now();
  const active = [...new Set((await store.admin.activeUsers()).map(describeUser))];
  const verdicts = (await store.admin.storedClips()).map((clip) => ({
    clip,
    verdict: active.length > 0 ? ('used' as const) : clipVerdict(clip, { keep, all: options.all ?? false, maxAgeMs, now }),
  }));
  const doomed = verdicts.filter((v) => v.verdict === 'remove').map((v) => v.clip);
  const leftovers = sweep({
    dir,
    now,
    alive: pidAlive,
    leftoversOnly: active.length > 0,
    knownKeys: await store.admin.renderKeys(),
    keptClips: new Set(verdicts.filter((v) => v.verdict !== 'remove').map((v) => v.clip.key)),
    awaited: await store.admin.awaitedPredictions(),
    scratchAgeMs: options.all ? 0 : maxAgeMs,
  });
  if (!options.dryRun) {
    for (const clip of doomed) {
      await store.admin.dropRender(clip.key); // the row first: a crash in between leaves an orphan file, which the next gc removes
      // Only this cache's copy: a recorded path outside it may be another cache's (this one copied from it).
      const own = clipPath(path.join(dir, 'clips'), clip.key);
      await rm(own, { force: true });
      if (clip.clipPath && clip.clipPath !== own && isInside(clip.clipPath, path.join(dir, 'clips'))) await rm(clip.clipPath, { force: true });
    }
    await remove(leftovers, dir);
  }
  ctx.stdout.write(report({ verdicts, doomed, leftovers, active, manifests: manifests.length, olderThan: options.olderThan, dryRun: options.dryRun ?? false }));
  return 0;
}

/** "run #3 (pid 123)", "a run on host-b (pid 77)". */
function describeUser(u: CacheUser): string {
  return u.kind === 'run' ? `run #${u.id} (pid ${u.pid})` : `a run on ${u.host} (pid ${u.pid})`;
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Keys the manifests' scenes have, under every provider (a manifest rendered with either keeps its clips). */
async function manifestKeys(store: Store, dir: string, manifests: string[], ctx: CommandContext): Promise<Set<string>> {
  const keep = new Set<string>();
  if (manifests.length === 0) return keep;
  for (const info of Object.values(PROVIDERS)) {
    const planned = await planManifests(manifests, { store, cacheDir: dir, ffmpeg: ffmpegOf(ctx), provider: info, signal: ctx.signal, outputs: false });
    // Random seeds cannot be referenced by a later run: their clips are kept only by use.
    const p = planned.planWith();
    for (const s of p.episodes.flatMap((e) => e.scenes)) keep.add(s.key);
    // A line's speech is a paid clip too: kept while a manifest says it.
    for (const l of planned.prepared.speech?.lines ?? []) keep.add(l.key);
  }
  return keep;
}

function report(r: {
  verdicts: { clip: StoredClip; verdict: ClipVerdict }[];
  doomed: StoredClip[];
  leftovers: { bytes: number }[];
  active: string[];
  manifests: number;
  olderThan?: string;
  dryRun: boolean;
}): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const count = (v: ClipVerdict) => r.verdicts.filter((x) => x.verdict === v).length;
  const clipBytes = r.doomed.reduce((n, c) => n + (c.clipBytes ?? 0), 0);
  const leftoverBytes = r.leftovers.reduce((n, l) => n + l.bytes, 0);
  const lines: string[] = [];
  if (r.active.length > 0) {
    lines.push(`${r.active.join(', ')} ${r.active.length === 1 ? 'is' : 'are'} still running on this cache: no clip or scratch file is removed while it may need them; only temp files of ended processes are`);
  }
  const why = [
    count('in-manifest') > 0 ? `${count('in-manifest')} used by the given manifest${r.manifests === 1 ? '' : 's'}` : '',
    count('used') > 0 ? `${count('used')} ${r.active.length > 0 ? 'held for the live run' : r.olderThan ? `used by a run within ${r.olderThan}` : 'used by a run (gc removes those only with --older-than AGE, or --all)'}` : '',
  ].filter(Boolean);
  lines.push(`${verb} ${r.doomed.length} clip${r.doomed.length === 1 ? '' : 's'} (${size(clipBytes)}); kept ${r.verdicts.length - r.doomed.length}${why.length ? `: ${why.join(', ')}` : ''}`);
  for (const c of r.doomed) lines.push(`  ${c.episodeId}/${c.sceneId} ${c.key.slice(0, 12)}`);
  lines.push(`${verb} ${r.leftovers.length} leftover file${r.leftovers.length === 1 ? '' : 's'} (${size(leftoverBytes)}): temp files of ended processes, scratch that is rebuilt for free`);
  lines.push(`${r.dryRun ? 'would free' : 'freed'} ${size(clipBytes + leftoverBytes)} (${clipBytes + leftoverBytes} bytes)`);
  return `${lines.join('\n')}\n`;
}

export function parseAge(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(value.trim());
  if (!m) throw new DuologueError('E_USAGE', `Expected \`--older-than\` like 12h, 30d or 2w, got \`${value}\``);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's'];
  return Number(m[1]) * unit;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
