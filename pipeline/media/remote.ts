import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';

/** Remote inputs larger than this are refused: media for one scene is megabytes, not gigabytes. */
const MAX_BYTES = 512 * 1024 * 1024;
const MAX_REDIRECTS = 5;

/**
 * Turns an http(s) input into a local file under `dir`, named by the URL's
 * hash. Every run asks again with the validators it has (ETag,
 * Last-Modified): an unchanged file answers 304 and is reused untouched (its
 * hash memo hits); a changed one is downloaded again, so its new bytes give a
 * new cache key. Written to a temp name, then renamed. Never sends a key.
 */
export function createRemoteFetcher(dir: string, dispatcher?: Dispatcher): (url: string, signal?: AbortSignal) => Promise<string> {
  return async (url, signal) => {
    const id = createHash('sha256').update(url).digest('hex').slice(0, 32);
    const ext = path.extname(new URL(url).pathname).slice(0, 8).replace(/[^.\w]/g, '');
    const file = path.join(dir, `${id}${ext}`);
    const meta = `${file}.json`;
    await mkdir(dir, { recursive: true });
    const known = await readFile(meta, 'utf8').then((t) => JSON.parse(t) as { etag?: string; lastModified?: string }, () => undefined);
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {};
      if (known?.etag) headers['if-none-match'] = known.etag;
      if (known?.lastModified) headers['if-modified-since'] = known.lastModified;
      const res = await request(target, { method: 'GET', headers, signal, dispatcher, headersTimeout: 30_000, bodyTimeout: 120_000 });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && res.headers.location) {
        res.body.resume();
        if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
        target = new URL(String(res.headers.location), target).toString();
        continue;
      }
      if (res.statusCode === 304) {
        res.body.resume();
        return file;
      }
      if (res.statusCode !== 200) {
        res.body.resume();
        throw new Error(`${res.statusCode} from ${new URL(target).host}`);
      }
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > MAX_BYTES) {
        res.body.destroy();
        throw new Error(`${length} bytes is over the ${MAX_BYTES}-byte limit for an input`);
      }
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        let got = 0;
        res.body.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got > MAX_BYTES) res.body.destroy(new Error(`over the ${MAX_BYTES}-byte limit for an input`));
        });
        await pipeline(res.body, createWriteStream(tmp), { signal });
        await rename(tmp, file);
      } finally {
        await rm(tmp, { force: true });
      }
      const etag = res.headers.etag ? String(res.headers.etag) : undefined;
      const lastModified = res.headers['last-modified'] ? String(res.headers['last-modified']) : undefined;
      await writeFile(meta, JSON.stringify({ url, etag, lastModified }));
      return file;
    }
  };
}
