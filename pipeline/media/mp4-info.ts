import { open } from 'node:fs/promises';

/** What the container says about an mp4: enough to accept or refuse a delivered clip without spawning ffprobe. */
export interface Mp4Info {
  durationSeconds: number;
  hasVideo: boolean;
  hasAudio: boolean;
}

/**
 * Reads the box structure of an mp4 (ISO BMFF): top-level boxes must tile the
 * file exactly (a truncated download does not), `moov/mvhd` gives the
 * duration, each `trak/mdia/hdlr` its kind. Returns undefined for anything
 * that is not a whole mp4. Reads only box headers and the small moov box.
 */
export async function readMp4Info(file: string): Promise<Mp4Info | undefined> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    // Small clips: one read, parsed in memory (fewer round trips than box-by-box reads).
    if (size <= SMALL_FILE) {
      const all = Buffer.alloc(size);
      const { bytesRead } = await fh.read(all, 0, size, 0);
      return bytesRead === size ? parseFile(all) : undefined;
    }
    const header = Buffer.alloc(16);
    let offset = 0;
    let moov: Buffer | undefined;
    let sawFtyp = false;
    while (offset < size) {
      if (size - offset < 8) return undefined;
      await fh.read(header, 0, 16, offset);
      const box = boxHeader(header, 0, size - offset);
      if (!box) return undefined; // truncated or garbage
      const { type, size: boxSize, header: headerSize } = box;
      if (offset === 0 && type !== 'ftyp') return undefined;
      if (type === 'ftyp') sawFtyp = true;
      if (type === 'moov') {
        if (boxSize > 64 * 1024 * 1024) return undefined;
        moov = Buffer.alloc(boxSize - headerSize);
        await fh.read(moov, 0, moov.length, offset + headerSize);
      }
      offset += boxSize;
    }
    if (!sawFtyp || !moov) return undefined;
    return parseMoov(moov);
  } finally {
    await fh.close();
  }
}

const SMALL_FILE = 16 * 1024 * 1024;

/** The same as `readMp4Info`, on bytes already in memory (a download kept while it was written). */
export function mp4InfoOf(buf: Buffer): Mp4Info | undefined {
  try {
    return parseFile(buf);
  } catch {
    return undefined;
  }
}

/** The same checks as the box walk above, on a file already in memory. */
function parseFile(buf: Buffer): Mp4Info | undefined {
  let covered = 0;
  let moov: Buffer | undefined;
  let first = true;
  for (const box of boxes(buf)) {
    if (first && box.type !== 'ftyp') return undefined;
    first = false;
    if (box.type === 'moov') moov = box.body;
    covered = box.end;
  }
  if (first || covered !== buf.length || !moov) return undefined; // boxes must tile the file: a cut download does not
  return parseMoov(moov);
}

/**
 * The box header at `at`: 32-bit size (1 = a 64-bit size follows, 0 = to the
 * end) and a 4-letter type. Undefined when the box would run past `remaining`
 * bytes (a cut file) or is smaller than its own header (garbage).
 */
function boxHeader(buf: Buffer, at: number, remaining: number): { type: string; header: number; size: number } | undefined {
  if (remaining < 8 || buf.length - at < 8) return undefined;
  let size = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let header = 8;
  if (size === 1) {
    if (buf.length - at < 16) return undefined;
    size = Number(buf.readBigUInt64BE(at + 8));
    header = 16;
  } else if (size === 0) {
    size = remaining;
  }
  return size < header || size > remaining ? undefined : { type, header, size };
}

function* boxes(buf: Buffer): Generator<{ type: string; body: Buffer; end: number }> {
  let offset = 0;
  for (let box = boxHeader(buf, 0, buf.length); box; box = boxHeader(buf, offset, buf.length - offset)) {
    yield { type: box.type, body: buf.subarray(offset + box.header, offset + box.size), end: offset + box.size };
    offset += box.size;
  }
}

/** Presented length of a track from its edit list (segment durations are in the movie timescale). */
function editListSeconds(edts: Buffer, movieTimescale: number): number | undefined {
  if (movieTimescale <= 0) return undefined;
  for (const e of boxes(edts)) {
    if (e.type !== 'elst' || e.body.length < 8) continue;
    const version = e.body[0];
    const count = e.body.readUInt32BE(4);
    const entry = version === 1 ? 20 : 12;
    if (e.body.length < 8 + count * entry) return undefined;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const at = 8 + i * entry;
      total += version === 1 ? Number(e.body.readBigUInt64BE(at)) : e.body.readUInt32BE(at);
    }
    return total / movieTimescale;
  }
  return undefined;
}

/** mvhd and mdhd share the layout of timescale and duration (version 0: 32-bit, version 1: 64-bit). */
function headerDuration(body: Buffer): number | undefined {
  const version = body[0];
  if (body.length < (version === 1 ? 32 : 20)) return undefined;
  const timescale = version === 1 ? body.readUInt32BE(20) : body.readUInt32BE(12);
  const units = version === 1 ? Number(body.readBigUInt64BE(24)) : body.readUInt32BE(16);
  return timescale > 0 ? units / timescale : undefined;
}

/**
 * Duration is the longest audio/video track's own (mdhd), as ffprobe reports
 * it: the movie header's can include encoder priming and would bill a 5.99 s
 * clip as 7 s.
 */
function parseMoov(moov: Buffer): Mp4Info | undefined {
  let movie: number | undefined;
  let movieTimescale = 0;
  let longest: number | undefined;
  let hasVideo = false;
  let hasAudio = false;
  for (const box of boxes(moov)) {
    if (box.type === 'mvhd') {
      movie = headerDuration(box.body);
      movieTimescale = box.body[0] === 1 ? box.body.readUInt32BE(20) : box.body.readUInt32BE(12);
    }
    if (box.type !== 'trak') continue;
    let handler = '';
    let seconds: number | undefined;
    let edited: number | undefined;
    for (const t of boxes(box.body)) {
      if (t.type === 'edts') edited = editListSeconds(t.body, movieTimescale);
      if (t.type !== 'mdia') continue;
      for (const m of boxes(t.body)) {
        if (m.type === 'hdlr' && m.body.length >= 12) handler = m.body.toString('latin1', 8, 12);
        if (m.type === 'mdhd') seconds = headerDuration(m.body);
      }
    }
    // The edit list is what a player presents (it hides AAC priming); the media duration otherwise.
    const presented = edited ?? seconds;
    if (handler === 'vide') hasVideo = true;
    if (handler === 'soun') hasAudio = true;
    if ((handler === 'vide' || handler === 'soun') && presented !== undefined) longest = Math.max(longest ?? 0, presented);
  }
  const durationSeconds = longest ?? movie;
  return durationSeconds === undefined ? undefined : { durationSeconds, hasVideo, hasAudio };
}
