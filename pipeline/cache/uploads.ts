import type { Db } from './db.ts';

/** sha256 → provider URL, so a file shared by 40 scenes is uploaded once. */
export interface UploadMemo {
  get(sha256: string, maxAgeMs: number): string | undefined;
  put(sha256: string, url: string): void;
  /** The provider could not fetch the URL: upload the bytes again next time. */
  forget(sha256: string): void;
}

export function createUploadMemo(db: Db, provider: string, now: () => number = Date.now): UploadMemo {
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

/** For tests and one-off use: the same contract, in memory. */
export function createMemoryUploadMemo(now: () => number = Date.now): UploadMemo {
  const rows = new Map<string, { url: string; at: number }>();
  return {
    get: (sha, maxAge) => {
      const r = rows.get(sha);
      return r && now() - r.at < maxAge ? r.url : undefined;
    },
    put: (sha, url) => void rows.set(sha, { url, at: now() }),
    forget: (sha) => void rows.delete(sha),
  };
}
