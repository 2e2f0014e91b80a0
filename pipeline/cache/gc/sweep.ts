/**
 * What `cache gc` finds on disk besides clips: temp files interrupted
 * processes left (`*.tmp`, `*.download`), stitch scratch folders, clip files
 * no render row knows, local renders nobody will collect, conformed copies of
 * clips that are gone, and free-to-rebuild scratch (`work/`, `remote/`).
 */
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { abandoned, GC_LIMITS, scratchDirPid, tempName } from './rule.ts';

export interface SweepInput {
  /** The cache directory. */
  dir: string;
  now: number;
  alive: (pid: number) => boolean;
  /** A run is live: only abandoned temp files go, nothing it could be about to use. */
  leftoversOnly: boolean;
  /** Keys with a render row (any state). */
  knownKeys: ReadonlySet<string>;
  /** Keys whose clips stay: their conformed copies stay too. */
  keptClips: ReadonlySet<string>;
  /** Prediction ids a later run will resume. */
  awaited: ReadonlySet<string>;
  /** Scratch untouched this long goes (0: all of it); undefined: scratch stays. */
  scratchAgeMs?: number;
}

export interface Removal {
  path: string;
  bytes: number;
}

/** Lists what may go, in the order to remove it; removes nothing. */
export function sweep(input: SweepInput): Removal[] {
  const out: Removal[] = [];
  // A live run renames its temp files away at any moment: a file gone since it was listed is simply skipped.
  const age = (file: string) => {
    try {
      return input.now - statSync(file).mtimeMs;
    } catch {
      return -Infinity;
    }
  };
  const take = (file: string) => {
    try {
      out.push({ path: file, bytes: size(file) });
    } catch {
      /* gone meanwhile */
    }
  };
  const isScratch = (file: string) => input.scratchAgeMs !== undefined && age(file) >= input.scratchAgeMs;

  /** Temp files anywhere: removed when abandoned. True when `name` was a temp name. */
  const temp = (file: string): boolean => {
    const t = tempName(path.basename(file));
    if (!t) return false;
    if (abandoned(t.pid, age(file), input.alive)) take(file);
    return true;
  };

  for (const file of files(path.join(input.dir, 'clips'))) {
    if (temp(file) || input.leftoversOnly) continue;
    const key = /^([0-9a-f]{64})\.mp4$/.exec(path.basename(file))?.[1];
    if (key && !input.knownKeys.has(key) && age(file) >= GC_LIMITS.graceMs) take(file); // no row can ever point at it
  }

  const work = path.join(input.dir, 'work');
  for (const entry of entries(path.join(work, 'stitch'))) {
    const folder = path.join(work, 'stitch', entry.name);
    if (entry.isDirectory() && abandoned(scratchDirPid(entry.name), age(folder), input.alive)) take(folder);
  }
  const conformed: string[] = [];
  for (const file of files(work, [path.join(work, 'stitch')])) {
    if (temp(file) || input.leftoversOnly) continue;
    const area = path.relative(work, file).split(path.sep)[0];
    if (area === 'conformed') conformed.push(file);
    else if (area === 'local' && /\.mp4$/.test(file)) {
      // A finished local render is collected by the run that resumes its prediction; nobody else will.
      if (!input.awaited.has(path.basename(file, '.mp4')) && age(file) >= GC_LIMITS.graceMs) take(file);
    } else if (isScratch(file)) take(file);
  }
  for (const group of conformedGroups(conformed)) {
    const identity = readIdentity(group.meta);
    const gone =
      identity === undefined
        ? group.files.every((f) => age(f) >= GC_LIMITS.graceMs) // unreadable: it would be conformed again anyway
        : identity.startsWith('slate:')
          ? group.files.every(isScratch)
          : !input.keptClips.has(identity); // conformed copies live and die with their clip
    if (gone) group.files.forEach(take);
  }

  const remote = path.join(input.dir, 'remote');
  for (const file of files(remote)) {
    if (temp(file) || input.leftoversOnly) continue;
    if (file.endsWith('.json')) {
      // Validators for a file that is gone would answer 304 for nothing: drop them.
      if (!existsSync(file.slice(0, -'.json'.length)) && age(file) >= GC_LIMITS.graceMs) take(file);
      continue;
    }
    const meta = `${file}.json`;
    if (isScratch(file) && (!existsSync(meta) || isScratch(meta))) {
      if (existsSync(meta)) take(meta); // validators first, so a crash never leaves them without their file
      take(file);
    }
  }
  return out;
}

/** Removes what `sweep` listed, then the folders that left empty. */
export async function remove(removals: readonly Removal[], root: string): Promise<void> {
  const parents = new Set<string>();
  for (const r of removals) {
    await rm(r.path, { recursive: true, force: true });
    parents.add(path.dirname(r.path));
  }
  for (const dir of [...parents].sort((a, b) => b.length - a.length)) {
    for (let d = dir; d.startsWith(root) && d !== root && path.dirname(d) !== root; d = path.dirname(d)) {
      if (!(await rmdir(d).then(() => true, () => false))) break; // not empty
    }
  }
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Files under dir, recursively, skipping the folders in `skip`. */
function files(dir: string, skip: string[] = []): string[] {
  if (skip.includes(dir)) return [];
  return entries(dir).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full, skip) : e.isFile() ? [full] : [];
  });
}

function size(file: string): number {
  const s = statSync(file);
  return s.isDirectory() ? files(file).reduce((n, f) => n + statSync(f).size, 0) : s.size;
}

/** A conform's outputs by id: `<id>.mp4`, `<id>.wav`, `<id>.json`. */
function conformedGroups(list: string[]): { meta: string; files: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const f of list) {
    const base = f.replace(/\.(mp4|wav|json)$/, '');
    groups.get(base)?.push(f) ?? groups.set(base, [f]);
  }
  return [...groups].map(([base, group]) => ({ meta: `${base}.json`, files: group }));
}

function readIdentity(meta: string): string | undefined {
  try {
    const identity = (JSON.parse(readFileSync(meta, 'utf8')) as { identity?: unknown }).identity;
    return typeof identity === 'string' ? identity : undefined;
  } catch {
    return undefined;
  }
}
