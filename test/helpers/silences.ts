/**
 * Tiny WAVs with known silences: `lead` ms of digital silence, `speech` ms of
 * a sine, `trail` ms of silence (ffmpeg lavfi, exact sample counts).
 */
import { runFfmpeg, type FfmpegPaths } from '../../pipeline/media/ffmpeg.ts';

export interface Shape {
  leadMs: number;
  speechMs: number;
  trailMs: number;
  /** @default 16000 */
  rate?: number;
  /** @default 440 */
  freq?: number;
}

export async function wavWithSilences(out: string, shape: Shape, ffmpeg: FfmpegPaths): Promise<void> {
  const rate = shape.rate ?? 16_000;
  const samples = (ms: number) => Math.round((ms * rate) / 1000);
  const parts: string[] = [];
  const labels: string[] = [];
  const add = (src: string, ms: number) => {
    if (ms <= 0) return;
    const label = `p${labels.length}`;
    parts.push(`${src},atrim=end_sample=${samples(ms)}[${label}]`);
    labels.push(`[${label}]`);
  };
  add(`anullsrc=r=${rate}:cl=mono`, shape.leadMs);
  add(`sine=f=${shape.freq ?? 440}:r=${rate}`, shape.speechMs);
  add(`anullsrc=r=${rate}:cl=mono`, shape.trailMs);
  const graph = `${parts.join(';')};${labels.join('')}concat=n=${labels.length}:v=0:a=1[o]`;
  await runFfmpeg(['-filter_complex', graph, '-map', '[o]', '-c:a', 'pcm_s16le', '-ar', String(rate), '-ac', '1', out], ffmpeg, { label: 'test wav' });
}
