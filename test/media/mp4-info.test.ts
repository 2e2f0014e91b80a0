import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { readMp4Info } from '../../pipeline/media/mp4-info.ts';

const ffmpeg = resolveFfmpegPaths();
const dir = mkdtempSync(path.join(tmpdir(), 'dl-mp4-'));
const clip = path.join(dir, 'clip.mp4');
const big = path.join(dir, 'big.mp4');
const silent = path.join(dir, 'silent.mp4');

beforeAll(async () => {
  const av = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=2.3', '-f', 'lavfi', '-i', 'sine=duration=2.1:sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'];
  await runFfmpeg([...av, clip], ffmpeg);
  // Over the one-read threshold (16 MB), moov at the end: the box-by-box path.
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25:duration=2,noise=alls=100:allf=t', '-f', 'lavfi', '-i', 'sine=duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', big], ffmpeg);
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', silent], ffmpeg);
});

const ffprobeDuration = (f: string) => Number(execFileSync(ffmpeg.ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', f], { encoding: 'utf8' }));

describe('readMp4Info', () => {
  it('reads tracks and the presented duration, as ffprobe reports it (small and large files)', async () => {
    for (const f of [clip, big]) {
      const info = await readMp4Info(f);
      expect(info).toMatchObject({ hasVideo: true, hasAudio: true });
      expect(info!.durationSeconds).toBeCloseTo(ffprobeDuration(f), 2);
    }
    expect(readFileSync(big).length).toBeGreaterThan(16 * 1024 * 1024);
    expect(await readMp4Info(silent)).toMatchObject({ hasVideo: true, hasAudio: false });
  });

  it('refuses truncated files and non-mp4 bytes', async () => {
    for (const [name, bytes] of [
      ['half.mp4', readFileSync(clip).subarray(0, readFileSync(clip).length >> 1)],
      ['cut-big.mp4', readFileSync(big).subarray(0, readFileSync(big).length - 100)],
      ['page.mp4', Buffer.from('<html><body>502 Bad Gateway</body></html>')],
      ['empty.mp4', Buffer.alloc(0)],
    ] as const) {
      writeFileSync(path.join(dir, name), bytes);
      expect(await readMp4Info(path.join(dir, name)), name).toBeUndefined();
    }
  });
});
