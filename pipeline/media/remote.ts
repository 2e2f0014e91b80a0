import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { DuologueError } from '../errors.ts';
import { hostIsPrivate, resolveHost, type ResolveHost } from './private-address.ts';
import { tempTag } from '../temp-tag.ts';

/** Remote inputs larger than this are refused: media for one scene is megabytes, not gigabytes. */
const MAX_BYTES = 512 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface RemoteFetcherOptions {
  dispatcher?: Dispatcher;
  /** Host name → addresses, to tell private hosts from public ones. @default dns.lookup */
  resolve?: ResolveHost;
  /** An input larger than this is refused (announced or streamed). @default 512 MiB */
  maxBytes?: number;
  /** Redirects followed before giving up. @default 5 */
  maxRedirects?: number;
}

/**
 * Turns an http(s) input into a local file under `dir`, named by the URL's
 * hash. Every run asks again with the validators it has (ETag,
 * Last-Modified): an unchanged file answers 304 and is reused untouched (its
 * hash memo hits); a changed one is downloaded again, so its new bytes give a
 * new cache key. A file that is gone (its metadata left behind) is fetched
 * without validators. Written to a temp name, then renamed. Never sends a key.
 * A redirect from a public host to a private or loopback one is refused.
 */
export function createRemoteFetcher(dir: string, options: RemoteFetcherOptions = {}): (url: string, signal?: AbortSignal) => Promise<string> {
  const { dispatcher, resolve = resolveHost, maxBytes = MAX_BYTES, maxRedirects = MAX_REDIRECTS } = options;
  return async (url, signal) => {
    const id = createHash('sha256').update(url).digest('hex').slice(0, 32);
    const ext = path.extname(new URL(url).pathname).slice(0, 8).replace(/[^.\w]/g, '');
    const file = path.join(dir, `${id}${ext}`);
    const meta = `${file}.json`;
    await mkdir(dir, { recursive: true });
    // Validators only for a file we still have: a 304 for a deleted file would leave nothing to read.
    const have = await stat(file).then((s) => s.isFile(), () => false);
    const known = have ? await readFile(meta, 'utf8').then((t) => JSON.parse(t) as { etag?: string; lastModified?: string }, () => undefined) : undefined;
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {};
      if (known?.etag) headers['if-none-match'] = known.etag;
      if (known?.lastModified) headers['if-modified-since'] = known.lastModified;
      const res = await request(target, { method: 'GET', headers, signal, dispatcher, headersTimeout: 30_000, bodyTimeout: 120_000 });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && res.headers.location) {
        res.body.resume();
        if (hop >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects`);
        const next = new URL(String(res.headers.location), target);
        await refusePrivateRedirect(new URL(target), next, resolve);
        target = next.toString();
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
      if (Number.isFinite(length) && length > maxBytes) {
        res.body.destroy();
        throw new Error(`${length} bytes is over the ${maxBytes}-byte limit for an input`);
      }
      const tmp = `${file}.${tempTag()}.tmp`;
      try {
        let got = 0;
        res.body.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got > maxBytes) res.body.destroy(new Error(`over the ${maxBytes}-byte limit for an input`));
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

/**
 * A public server must not point duologue at this machine or its network
 * (a manifest's URL turned into a request to 127.0.0.1 or the cloud metadata
 * service). Private to private (a LAN server, or tests on loopback) is fine.
 */
async function refusePrivateRedirect(from: URL, to: URL, resolve: ResolveHost): Promise<void> {
  if (!(await hostIsPrivate(to, resolve)) || (await hostIsPrivate(from, resolve))) return;
  throw new DuologueError('E_INPUT', `refused a redirect from ${from.host} (a public address) to ${to.host} (a private or loopback address)`);
}
