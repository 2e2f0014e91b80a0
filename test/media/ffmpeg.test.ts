/**
 * Every ffmpeg/ffprobe child has a timeout: a child that really hangs (ffmpeg
 * blocked on a FIFO nobody writes; a fake binary that ignores SIGTERM) is
 * killed and reported as E_FFMPEG naming what timed out.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { CHILD_TIMEOUTS } from '../../pipeline/defaults.ts';
import { FfmpegTimeoutError, ManifestErrors } from '../../pipeline/errors.ts';
import { ffmpegTimeoutMs, ffprobe, resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const dir = mkdtempSync(path.join(tmpdir(), 'duologue-ffmpeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in binary that records its pid, ignores SIGTERM and never ends. */
function stubbornBinary(name: string): { bin: string; pidFile: string } {
  const bin = path.join(dir, name);
  const pidFile = `${bin}.pid`;
  // A shell script, not node: it writes its pid within milliseconds even on a loaded machine, well inside the 0.4–0.5 s timeouts below.
  writeFileSync(bin, `#!/bin/sh\necho $$ > '${pidFile}'\ntrap '' TERM\nwhile :; do sleep 0.2; done\n`);
  chmodSync(bin, 0o755);
  return { bin, pidFile };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (Linux /proc). */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('ffmpeg child timeouts', () => {
  it('the default timeout scales with the media duration', () => {
    expect(ffmpegTimeoutMs(0)).toBe(CHILD_TIMEOUTS.ffmpegBaseMs);
    expect(ffmpegTimeoutMs(30) - ffmpegTimeoutMs(0)).toBe(30 * CHILD_TIMEOUTS.ffmpegPerMediaSecondMs);
    expect(ffmpegTimeoutMs(600)).toBe(ffmpegTimeoutMs(300) + 300 * CHILD_TIMEOUTS.ffmpegPerMediaSecondMs);
    expect(ffmpegTimeoutMs()).toBe(ffmpegTimeoutMs(CHILD_TIMEOUTS.unknownMediaSeconds));
  });

  it('ffmpeg reading a FIFO that never delivers is killed and reported as E_FFMPEG naming the job', { timeout: 20_000 }, async () => {
    const fifo = path.join(dir, 'never-ends.wav');
    execFileSync('mkfifo', [fifo]);
    const error = await runFfmpeg(['-i', fifo, '-f', 'null', '-'], ffmpeg, { label: 'build dialogue track', timeoutMs: 300, killGraceMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegTimeoutError);
    expect(error).toMatchObject({ code: 'E_FFMPEG', message: 'build dialogue track: ffmpeg did not finish within 0.3 s and was killed' });
    expect(processesMentioning(fifo)).toEqual([]); // no ffmpeg left behind
  });

  it('a child that ignores SIGTERM gets SIGKILL after the grace', { timeout: 20_000 }, async () => {
    const { bin, pidFile } = stubbornBinary('fake-ffmpeg');
    const error = await runFfmpeg(['-i', 'x.wav', 'out.wav'], { ...ffmpeg, ffmpeg: bin }, { label: 'render e/s locally', timeoutMs: 500, killGraceMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_FFMPEG', message: 'render e/s locally: ffmpeg did not finish within 0.5 s and was killed' });
    expect(existsSync(pidFile)).toBe(true);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('a hung ffprobe is killed and named', { timeout: 20_000 }, async () => {
    const { bin, pidFile } = stubbornBinary('fake-ffprobe');
    const file = path.join(import.meta.dirname, '../fixtures/media/tone-1s.wav');
    const error = await ffprobe(file, { ...ffmpeg, ffprobe: bin }, undefined, { timeoutMs: 500, killGraceMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_FFMPEG', message: `ffprobe of ${file} did not finish within 0.5 s and was killed` });
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('validate reports a hung probe as a positioned input error, and does not remember it as undecodable', { timeout: 30_000 }, async () => {
    const { bin } = stubbornBinary('fake-ffprobe-2');
    const { manifest } = tinyProject('version: 1\nepisodes:\n  - id: ep\n    scenes:\n      - { id: s, image: two-people.png, left: tone-1s.wav }\n');
    const store = await openStore({ dir: ':memory:' });
    try {
      const hung = await prepare([manifest], { memo: store.files, ffmpeg: { ...ffmpeg, ffprobe: bin }, prices: PROVIDERS.local.prices, probeTimeoutMs: 400 }).catch((e: unknown) => e);
      expect(hung).toBeInstanceOf(ManifestErrors);
      const messages = (hung as ManifestErrors).diagnostics.map((d) => `${d.line}:${d.col} ${d.where}: ${d.message}`);
      expect(messages).toContainEqual(expect.stringMatching(/^5:\d+ ep\/s: audio "tone-1s\.wav" could not be checked: ffprobe of .*tone-1s\.wav did not finish within 0\.4 s and was killed$/));
      // The same memo with a working ffprobe: the file is probed again and is fine.
      const ok = await prepare([manifest], { memo: store.files, ffmpeg, prices: PROVIDERS.local.prices });
      expect(ok.series.episodes[0].scenes).toHaveLength(1);
    } finally {
      await store.close();
      rmSync(path.dirname(manifest), { recursive: true, force: true });
    }
  });
});
