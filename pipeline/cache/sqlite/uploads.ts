import type { UploadMemo } from '../interfaces.ts';
import type { Db } from './db.ts';
import type { Sync } from './guard.ts';

/** {@link UploadMemo} of one provider on the uploads table. */
export function createUploadMemo(db: Db, provider: string, now: () => number = Date.now): Sync<UploadMemo> {
  const select = db.prepare<[string, string], { url: string; uploaded_at: number }>('SELECT url, uploaded_at FROM uploads WHERE provider = ? AND sha256 = ?');
  const upsert = db.prepare(
    `INSERT INTO uploads (provider, sha256, url, uploaded_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(provider, sha256) DO UPDATE SET url = excluded.url, uploaded_at = excluded.uploaded_at`,
  );
  const remove = db.prepare('DELETE FROM uploads WHERE provider = ? AND sha256 = ?');
  return {
    get(sha256, maxAgeMs) {
      const row = select.get(provider, sha256);
      return row && now() - row.uploaded_at < maxAgeMs ? row.url : undefined;
    },
    put(sha256, url) {
      upsert.run(provider, sha256, url, now());
    },
    forget(sha256) {
      remove.run(provider, sha256);
    },
  };
}
