/**
 * Bench: stitching 40 conformed 10 s clips with duologue (concat + stream
 * copy + two-pass loudnorm + chapters + faststart) vs a hand-written
 * concat-demuxer command doing stream copy + one AAC encode, in one run.
 * Target: ratio ≤ 1.25. Run: npm run bench -- stitch
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveFfmpegPaths, runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { concatList } from '../../pipeline/stitch/args.ts';
import { conformClip } from '../../pipeline/stitch/conform.ts';
import { stitchEpisode } from '../../pipeline/stitch/episode.ts';
import { episodeFormat } from '../../pipeline/stitch/format.ts';

export async function benchStitch(): Promise<Record<string, string | number>> {
  const ffmpeg = resolveFfmpegPaths();
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-bench-stitch-'));
  const workDir = path.join(dir, 'work');
  const format = episodeFormat(['480p']);
  const source = path.join(dir, 'src.mp4');
  // Speech-like audio: a tone gated on and off; a still-ish picture like a talking-head clip.
  await runFfmpeg(
    ['-f', 'lavfi', '-i', 'testsrc=size=854x480:rate=25:duration=10', '-f', 'lavfi', '-i', "sine=frequency=220:sample_rate=48000:duration=10",
      '-af', "volume='if(lt(mod(t,1.3),0.8),0.6,0.05)':eval=frame", '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', source],
    ffmpeg,
  );
  const conformed = [];
  for (let i = 0; i < 40; i++) conformed.push(await conformClip(source, `clip-${i}`, format, { dir: path.join(workDir, 'conformed'), ffmpeg }));
  const scenes = conformed.map((_, i) => ({ sceneId: `s${i}`, title: `Scene ${i + 1}`, clip: source, identity: `clip-${i}`, seed: i, expectedSeconds: 10 }));

  const videoList = path.join(dir, 'v.ffconcat');
  const audioList = path.join(dir, 'a.ffconcat');
  writeFileSync(videoList, concatList(conformed.map((c) => c.video)));
  writeFileSync(audioList, concatList(conformed.map((c) => c.audio)));
  const hand = () =>
    runFfmpeg(['-f', 'concat', '-safe', '0', '-i', videoList, '-f', 'concat', '-safe', '0', '-i', audioList, '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', '-b:a', '160k', path.join(dir, 'hand.mp4')], ffmpeg);
  const ours = async () => {
    rmSync(path.join(dir, 'ours.mp4'), { force: true });
    rmSync(path.join(dir, 'ours.mp4.json'), { force: true });
    const stats = { conformed: 0, reused: 0 };
    await stitchEpisode({ episodeId: 'bench', title: 'Bench', output: path.join(dir, 'ours.mp4'), scenes, format }, { workDir, ffmpeg, stats });
    if (stats.conformed !== 0) throw new Error('bench expected every clip conformed already');
  };
  const time = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return (performance.now() - t0) / 1000;
  };
  const handTimes: number[] = [];
  const ourTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    handTimes.push(await time(hand));
    ourTimes.push(await time(ours));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  const h = median(handTimes);
  const o = median(ourTimes);
  return { clips: 40, clip_seconds: 10, hand_s: Number(h.toFixed(2)), duologue_s: Number(o.toFixed(2)), ratio: Number((o / h).toFixed(2)), target: 'ratio <= 1.25' };
}
