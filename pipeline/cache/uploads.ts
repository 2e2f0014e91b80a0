import type { UploadMemo } from './interfaces.ts';

/** For tests and one-off use: the upload memo's contract, in memory. */
export function createMemoryUploadMemo(now: () => number = Date.now): UploadMemo {
  const rows = new Map<string, { url: string; at: number }>();
  return {
    get: async (sha, maxAge) => {
      const r = rows.get(sha);
      return r && now() - r.at < maxAge ? r.url : undefined;
    },
    put: async (sha, url) => void rows.set(sha, { url, at: now() }),
    forget: async (sha) => void rows.delete(sha),
  };
}
