/**
 * Submits a kill left without their answer, judged by the fake's own records
 * rather than by what duologue says it did. A lost submit either created a
 * task (the fake received a request with exactly its body before the next run
 * started) or it did not. The next runs must attach that task in the first
 * case, and submit the scene again in the second; nothing else is right.
 * Only one cache's submissions are searched, and the whole body is compared:
 * each cache uploads its own media, so its upload URLs are its own.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { Submission } from '../fakes/wavespeed-server.ts';

interface LostSubmit {
  key: string;
  body: Record<string, unknown>;
  /** Date.now() before the run after the kill started: requests received earlier were the killed run's (or older). */
  nextRunAt: number;
}

export class LostSubmits {
  /** By what was sent (body and time): a submit still unanswered after several kills is one lost submit. */
  private lost = new Map<string, LostSubmit>();

  constructor(private cacheDir: string) {}

  /** Call after a kill, before the next run starts: notes the submits now without an answer; returns how many are new. */
  note(): number {
    const file = path.join(this.cacheDir, 'duologue.db');
    if (!existsSync(file)) return 0;
    const db = new Database(file, { readonly: true });
    const rows = db.prepare("SELECT key, submit_sent FROM renders WHERE status IN ('ambiguous', 'submitting') AND submit_sent IS NOT NULL").all() as { key: string; submit_sent: string }[];
    db.close();
    let added = 0;
    for (const row of rows) {
      if (this.lost.has(row.submit_sent)) continue;
      const sent = JSON.parse(row.submit_sent) as { body: Record<string, unknown> };
      this.lost.set(row.submit_sent, { key: row.key, body: sent.body, nextRunAt: Date.now() });
      added++;
    }
    return added;
  }

  /**
   * Call after the final run, with this cache's submissions only: checks each
   * lost submit was resolved the one right way, and counts how.
   */
  judge(mine: readonly Submission[]): { attached: number; resubmitted: number } {
    const db = new Database(path.join(this.cacheDir, 'duologue.db'), { readonly: true });
    const predictionOf = (key: string) => (db.prepare('SELECT prediction_id FROM renders WHERE key = ?').get(key) as { prediction_id: string | null }).prediction_id;
    let attached = 0;
    let resubmitted = 0;
    try {
      for (const lost of this.lost.values()) {
        const created = mine.filter((s) => s.receivedAt < lost.nextRunAt && isDeepStrictEqual(s.body, lost.body));
        expect(created.length, `lost submit of ${lost.key.slice(0, 12)}: tasks with its body`).toBeLessThanOrEqual(1);
        if (created.length === 1) {
          // Its task exists: the key's clip must be that task's, and no other submit of the key was sent.
          expect(predictionOf(lost.key), `lost submit of ${lost.key.slice(0, 12)} created ${created[0].id}; it must be attached`).toBe(created[0].id);
          expect(mine.filter((s) => s.body.seed === lost.body.seed)).toHaveLength(1);
          attached++;
        } else {
          // No task: the key must have been submitted again, once, by a later run.
          const again = mine.filter((s) => s.receivedAt >= lost.nextRunAt && s.body.seed === lost.body.seed);
          expect(again.length, `lost submit of ${lost.key.slice(0, 12)} created no task; it must be sent again once`).toBe(1);
          expect(predictionOf(lost.key)).toBe(again[0].id);
          resubmitted++;
        }
      }
    } finally {
      db.close();
    }
    return { attached, resubmitted };
  }
}
