/**
 * What `cache gc` may remove, as pure rules. A clip removed by mistake is
 * money paid again, so a clip goes only when nothing says it is wanted: no
 * manifest given uses it, and no run used it within the age the user named
 * (without an age, any run ever) — unless the user said `--all`.
 */

export const GC_LIMITS = {
  /**
   * A temp file untouched this long has no writer: every writer (a download,
   * an ffmpeg encode) updates its file as it goes.
   */
  staleMs: 24 * 3_600_000,
  /**
   * A temp file whose writer's pid has ended is left this long first: covers
   * a new process that got the same pid, and a cache shared by two hosts.
   */
  graceMs: 60_000,
  /** An unfinished run older than this is a crash whose pid was reused, not a live run (the longest series take days). */
  liveRunMaxMs: 7 * 86_400_000,
} as const;

export interface ClipRule {
  /** Keys the given manifests use (every provider's). */
  keep: ReadonlySet<string>;
  /** Remove every clip the manifests do not use, however recently used. */
  all: boolean;
  /** Remove clips no run has used for this long; undefined: keep every clip a run has used. */
  maxAgeMs?: number;
  now: number;
}

export type ClipVerdict = 'remove' | 'in-manifest' | 'used';

/** `lastUsedAt`: the latest of its render and any run that rendered or hit it. */
export function clipVerdict(clip: { key: string; lastUsedAt: number }, rule: ClipRule): ClipVerdict {
  if (rule.keep.has(clip.key)) return 'in-manifest';
  if (rule.all) return 'remove';
  if (rule.maxAgeMs !== undefined && rule.now - clip.lastUsedAt >= rule.maxAgeMs) return 'remove';
  return 'used';
}

/**
 * Temp names duologue writes — `x.<pid>.tmp`, `x.<pid>.tmp.mp4`,
 * `x.<pid>.download`, `x.<uuid>.tmp`, `x.mp4.tmp` — with the writer's pid
 * when the name carries one; undefined for any other name.
 */
export function tempName(name: string): { pid?: number } | undefined {
  const m = /\.(?:(\d+)\.)?(?:tmp|download)(?:\.[a-z0-9]{1,5})?$/i.exec(name);
  if (!m) return undefined;
  const pid = m[1] === undefined ? undefined : Number(m[1]);
  return { pid: pid !== undefined && pid > 1 ? pid : undefined };
}

/** The scratch folder of a stitch in progress: `work/stitch/<episode>.<pid>`. */
export function scratchDirPid(name: string): number | undefined {
  const m = /\.(\d+)$/.exec(name);
  return m && Number(m[1]) > 1 ? Number(m[1]) : undefined;
}

/** A temp file (or scratch folder) nobody is writing: its writer has ended, or it has not been touched for a day. */
export function abandoned(pid: number | undefined, ageMs: number, alive: (pid: number) => boolean): boolean {
  if (ageMs >= GC_LIMITS.staleMs) return true;
  return pid !== undefined && ageMs >= GC_LIMITS.graceMs && !alive(pid);
}
