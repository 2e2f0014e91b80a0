/**
 * The edge-silence memo: what silencedetect found in a file, remembered by
 * the file's sha256 and the detection settings, so a warm `plan` decodes no
 * audio. Content-addressed (a renamed file keeps its entry) and local to the
 * cache dir like the media memo: it describes bytes, not shared run state.
 * One small JSON file per audio file under `<cache>/memo/silence/`; a damaged
 * or unreadable entry is measured again.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempTag } from '../temp-tag.ts';

export interface EdgeSilenceFacts {
  leadingMs: number;
  trailingMs: number;
}

export interface EdgeSilenceMemo {
  /** `method` names the detector and its thresholds (media/silence.ts thresholdsId). */
  get(sha256: string, method: string): Promise<EdgeSilenceFacts | undefined>;
  put(sha256: string, method: string, facts: EdgeSilenceFacts): Promise<void>;
}

export function openSilenceMemo(cacheDir: string): EdgeSilenceMemo {
  const dir = path.join(cacheDir, 'memo', 'silence');
  const fileOf = (sha256: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`internal: not a sha256: ${sha256}`);
    return path.join(dir, `${sha256}.json`);
  };
  const read = async (file: string): Promise<Record<string, EdgeSilenceFacts>> => {
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as unknown;
      return data && typeof data === 'object' ? (data as Record<string, EdgeSilenceFacts>) : {};
    } catch {
      return {};
    }
  };
  return {
    async get(sha256, method) {
      const hit = (await read(fileOf(sha256)))[method];
      return hit && Number.isInteger(hit.leadingMs) && Number.isInteger(hit.trailingMs) ? { leadingMs: hit.leadingMs, trailingMs: hit.trailingMs } : undefined;
    },
    async put(sha256, method, facts) {
      const file = fileOf(sha256);
      await mkdir(dir, { recursive: true });
      const next = { ...(await read(file)), [method]: { leadingMs: facts.leadingMs, trailingMs: facts.trailingMs } };
      // Temp file, then rename: a reader never sees half an entry; two writers of the same facts agree.
      const tmp = `${file}.${tempTag()}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify(next));
        await rename(tmp, file);
      } finally {
        await rm(tmp, { force: true });
      }
    },
  };
}

/** A memo in memory (tests, one-off library calls). */
export function memorySilenceMemo(): EdgeSilenceMemo & { size(): number } {
  const map = new Map<string, EdgeSilenceFacts>();
  return {
    get: async (sha256, method) => map.get(`${sha256}\0${method}`),
    put: async (sha256, method, facts) => void map.set(`${sha256}\0${method}`, { ...facts }),
    size: () => map.size,
  };
}
