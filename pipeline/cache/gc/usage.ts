/** What the cache database says about clips and runs, for `cache gc`. */
import { hostname } from 'node:os';
import type { Db } from '../db.ts';
import { ownerAlive } from '../owner.ts';
import { GC_LIMITS } from './rule.ts';

export interface StoredClip {
  key: string;
  episodeId: string;
  sceneId: string;
  clipPath: string | null;
  clipBytes: number | null;
  /** The latest of its render and of every run that rendered or hit it (epoch ms). */
  lastUsedAt: number;
}

export function storedClips(db: Db): StoredClip[] {
  return db
    .prepare<[], StoredClip>(
      `SELECT r.key, r.episode_id AS episodeId, r.scene_id AS sceneId, r.clip_path AS clipPath, r.clip_bytes AS clipBytes,
              max(coalesce(r.completed_at, r.updated_at), coalesce(u.last_run, 0)) AS lastUsedAt
       FROM renders r
       LEFT JOIN (SELECT s.key, max(coalesce(x.finished_at, x.started_at)) AS last_run
                  FROM run_scenes s JOIN runs x ON x.id = s.run_id GROUP BY s.key) u ON u.key = r.key
       WHERE r.status = 'complete'
       ORDER BY r.episode_id, r.scene_id`,
    )
    .all();
}

/**
 * Runs that may still use the cache, in words: unfinished runs whose process
 * is alive on this host, and claims held by a live owner on another host.
 */
export function activeRuns(db: Db, now: number, alive: (pid: number) => boolean): string[] {
  const runs = db
    .prepare<[number], { id: number; pid: number }>('SELECT id, pid FROM runs WHERE finished_at IS NULL AND started_at > ? ORDER BY id')
    .all(now - GC_LIMITS.liveRunMaxMs)
    .filter((r) => alive(r.pid))
    .map((r) => `run #${r.id} (pid ${r.pid})`);
  const elsewhere = db
    .prepare<[], { owner: string; lease_until: number }>('SELECT DISTINCT owner, lease_until FROM renders WHERE owner IS NOT NULL')
    .all()
    .filter((r) => r.owner.split(':')[0] !== hostname() && ownerAlive(r.owner, r.lease_until, now))
    .map((r) => `a run on ${r.owner.split(':')[0]} (pid ${r.owner.split(':')[1]})`);
  return [...new Set([...runs, ...elsewhere])];
}

/** Every key with a render row, whatever its state: a clip file under such a key is not an orphan. */
export function renderKeys(db: Db): Set<string> {
  return new Set(db.prepare<[], { key: string }>('SELECT key FROM renders').all().map((r) => r.key));
}

/** Prediction ids a later run will resume (a local render's finished file waits under its id). */
export function awaitedPredictions(db: Db): Set<string> {
  const rows = db.prepare<[], { id: string }>("SELECT prediction_id AS id FROM renders WHERE prediction_id IS NOT NULL AND status IN ('in-flight','submitting')").all();
  return new Set(rows.map((r) => r.id));
}

/** Forgets a render (its clip is being removed): the next run that needs it renders it again. */
export function dropRender(db: Db, key: string): void {
  db.prepare("DELETE FROM renders WHERE key = ? AND status = 'complete'").run(key);
}
