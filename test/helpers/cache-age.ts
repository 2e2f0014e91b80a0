import { openDb } from '../../pipeline/cache/sqlite/db.ts';

export const DAY = 86_400_000;

/** Makes every run and render recorded so far in a cache look `days` old (gc rules count age). */
export function age(cacheDir: string, days: number): void {
  const db = openDb(cacheDir);
  const then = Date.now() - days * DAY;
  db.prepare('UPDATE runs SET started_at = ?, finished_at = ?').run(then, then);
  db.prepare('UPDATE renders SET completed_at = ?, updated_at = ?').run(then, then);
  db.close();
}
