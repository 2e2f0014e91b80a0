import type { UploadMemo } from '../interfaces.ts';
import type { Sql } from './db.ts';

/** {@link UploadMemo} of one provider on the server's uploads table (shared: a file uploaded by one worker is reused by all). */
export function createUploadMemo(sql: Sql, provider: string, now: () => number = Date.now): UploadMemo {
  return {
    async get(sha256, maxAgeMs) {
      const [row] = await sql.rows<{ url: string; uploaded_at: number }>('SELECT url, uploaded_at FROM uploads WHERE provider = $1 AND sha256 = $2', [provider, sha256]);
      return row && now() - row.uploaded_at < maxAgeMs ? row.url : undefined;
    },
    async put(sha256, url) {
      await sql.rows(
        `INSERT INTO uploads (provider, sha256, url, uploaded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, sha256) DO UPDATE SET url = excluded.url, uploaded_at = excluded.uploaded_at`,
        [provider, sha256, url, now()],
      );
    },
    async forget(sha256) {
      await sql.rows('DELETE FROM uploads WHERE provider = $1 AND sha256 = $2', [provider, sha256]);
    },
  };
}
