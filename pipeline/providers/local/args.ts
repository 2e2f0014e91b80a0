import { literalInput } from '../../media/ffmpeg.ts';
import type { Order, Resolution } from '../../types.ts';

export const FPS = 25;
export const AUDIO_RATE = 48_000;

/** Pixels of the output frame for a resolution (854×480, 1280×720 for 16:9). */
const AREA: Record<Resolution, number> = { '480p': 854 * 480, '720p': 1280 * 720 };

/**
 * Output size that keeps the image's aspect (as InfiniteTalk does) at the
 * resolution's pixel count, both sides even (yuv420p needs it).
 */
export function frameSize(resolution: Resolution, width: number, height: number): { width: number; height: number } {
  const aspect = width / height;
  const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
  const w = even(Math.sqrt(AREA[resolution] * aspect));
  return { width: w, height: even(w / aspect) };
}

export interface LocalRenderInput {
  image: string;
  imageWidth: number;
  imageHeight: number;
  left: string;
  right: string;
  leftMs: number;
  rightMs: number;
  order: Order;
  resolution: Resolution;
  out: string;
}

/** Start of each side on the video timeline, as the API lays audio out. */
export function sideOffsets(order: Order, leftMs: number, rightMs: number): { left: number; right: number; videoMs: number } {
  if (order === 'left_right') return { left: 0, right: leftMs, videoMs: leftMs + rightMs };
  if (order === 'right_left') return { left: rightMs, right: 0, videoMs: leftMs + rightMs };
  return { left: 0, right: 0, videoMs: Math.max(leftMs, rightMs) };
}

/**
 * ffmpeg arguments for a preview clip: the still image at the output size,
 * each side's audio placed where the API would put it, and under each person
 * a waveform of their own track, so who speaks when is visible.
 * 25 fps H.264 yuv420p + AAC 48 kHz, exactly the video length.
 */
export function localRenderArgs(input: LocalRenderInput): string[] {
  const { width, height } = frameSize(input.resolution, input.imageWidth, input.imageHeight);
  const { left, right, videoMs } = sideOffsets(input.order, input.leftMs, input.rightMs);
  const seconds = (videoMs / 1000).toFixed(3);
  const total = Math.round((videoMs * AUDIO_RATE) / 1000);
  const waveW = Math.max(2, Math.round(width / 2 / 2) * 2);
  const waveH = Math.max(2, Math.round(height / 6 / 2) * 2);
  const side = (index: number, ms: number, delayMs: number, label: string) =>
    `[${index}:a]aresample=${AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,` +
    `atrim=end_sample=${Math.round((ms * AUDIO_RATE) / 1000)},` +
    (delayMs > 0 ? `adelay=${delayMs},` : '') +
    `apad,atrim=end_sample=${total},asetpts=N/SR/TB,asplit=2[${label}m][${label}w]`;
  const graph = [
    `[0:v]scale=${width}:${height},setsar=1,format=yuv420p[bg]`,
    side(1, input.leftMs, left, 'L'),
    side(2, input.rightMs, right, 'R'),
    `[Lw]showwaves=s=${waveW}x${waveH}:mode=cline:rate=${FPS}:colors=0x7fd0ff[wl]`,
    `[Rw]showwaves=s=${waveW}x${waveH}:mode=cline:rate=${FPS}:colors=0xffb070[wr]`,
    `[bg][wl]overlay=0:${height - waveH}:eof_action=pass[v1]`,
    `[v1][wr]overlay=${width - waveW}:${height - waveH}:eof_action=pass,fps=${FPS},format=yuv420p[v]`,
    // Both voices summed at full level (amix would halve them), same in both channels.
    `[Lm][Rm]amerge=inputs=2,pan=stereo|c0=c0+c1|c1=c0+c1[a]`,
  ].join(';');
  return [
    // image2pipe decides the codec from the bytes and never reads `%d` or `*` in the name as a
    // sequence pattern (the image2 demuxer, picked by name, would); the file protocol keeps
    // the path literal (no `proto:` prefix read from it).
    '-f', 'image2pipe', '-loop', '1', '-framerate', String(FPS), '-t', seconds, '-i', literalInput(input.image),
    '-i', literalInput(input.left),
    '-i', literalInput(input.right),
    '-filter_complex', graph,
    '-map', '[v]', '-map', '[a]',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'stillimage', '-crf', '28', '-pix_fmt', 'yuv420p', '-r', String(FPS),
    '-c:a', 'aac', '-b:a', '96k', '-ar', String(AUDIO_RATE),
    '-t', seconds,
    '-movflags', '+faststart',
    '-f', 'mp4', input.out,
  ];
}
