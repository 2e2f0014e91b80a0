/** Pure ffmpeg argument builders for stitching; unit-tested without ffmpeg. */
import { EPISODE_AUDIO_RATE, SAMPLES_PER_FRAME, type EpisodeFormat } from './format.ts';

/** GOP of 2 s at 25 fps, fixed: every conformed clip starts on a keyframe with identical stream parameters. */
const GOP = 50;
/** One timebase for every conformed clip (1/12800 is ffmpeg's default for 25 fps): concat without re-timing. */
const TIMESCALE = 12_800;

/**
 * Conform one clip: fit inside the episode frame (aspect kept, padded),
 * constant 25 fps, yuv420p H.264 with one GOP setting, exactly `frames`
 * frames; its audio decoded to 48 kHz stereo PCM of exactly the same length
 * (padded or trimmed), written beside it as WAV.
 */
export function conformArgs(input: { clip: string; hasAudio: boolean; frames: number; format: EpisodeFormat; videoOut: string; audioOut: string }): string[] {
  const { width, height, fps } = input.format;
  const samples = input.frames * SAMPLES_PER_FRAME;
  const video = `[0:v]fps=${fps},scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:black,setsar=1,format=yuv420p[v]`;
  const audioSource = input.hasAudio ? '[0:a]' : `anullsrc=r=${EPISODE_AUDIO_RATE}:cl=stereo,`;
  const audio = `${audioSource}aresample=${EPISODE_AUDIO_RATE},aformat=sample_fmts=s16:channel_layouts=stereo,apad,atrim=end_sample=${samples},asetpts=N/SR/TB[a]`;
  return [
    '-i', input.clip,
    '-filter_complex', `${video};${audio}`,
    '-map', '[v]', '-an', '-frames:v', String(input.frames),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', String(GOP), '-keyint_min', String(GOP), '-sc_threshold', '0',
    '-pix_fmt', 'yuv420p', '-video_track_timescale', String(TIMESCALE), '-map_metadata', '-1', '-f', 'mp4', input.videoOut,
    '-map', '[a]', '-c:a', 'pcm_s16le', '-map_metadata', '-1', '-f', 'wav', input.audioOut,
  ];
}

/**
 * A slate for a missing scene: black, silent, its expected length, with the
 * scene and reason written on it when a font exists. The text is read from a
 * file with expansion off, so whatever an API says (quotes, colons, `%{...}`)
 * is drawn as is and never parsed as filter syntax.
 */
export function slateArgs(input: { frames: number; format: EpisodeFormat; textFile: string; fontFile?: string; out: string }): string[] {
  const { width, height, fps } = input.format;
  const seconds = (input.frames / fps).toFixed(3);
  const text = input.fontFile
    ? `,drawtext=fontfile=${filterValue(input.fontFile)}:textfile=${filterValue(input.textFile)}:expansion=none:fontcolor=white:fontsize=${Math.round(height / 18)}:line_spacing=${Math.round(height / 60)}:x=(w-text_w)/2:y=(h-text_h)/2`
    : '';
  return [
    '-f', 'lavfi', '-i', `color=c=black:s=${width}x${height}:r=${fps}:d=${seconds}${text}`,
    '-f', 'lavfi', '-i', `anullsrc=r=${EPISODE_AUDIO_RATE}:cl=stereo`,
    '-t', seconds, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-f', 'mp4', input.out,
  ];
}

/** Characters per slate line (fits the 480p frame at the slate's font size) and lines of reason kept. */
const SLATE_COLUMNS = 48;
const SLATE_REASON_LINES = 6;

/** The slate's text as lines: the scene, then the reason wrapped at word boundaries, cut with "…" when long. */
export function slateLines(sceneId: string, reason: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of reason.split(/\s+/).filter(Boolean)) {
    for (let rest = word; rest.length > 0; ) {
      const room = line ? SLATE_COLUMNS - line.length - 1 : SLATE_COLUMNS;
      if (rest.length <= room) {
        line = line ? `${line} ${rest}` : rest;
        rest = '';
      } else if (line) {
        lines.push(line);
        line = '';
      } else {
        lines.push(rest.slice(0, SLATE_COLUMNS)); // a word longer than a line is split
        rest = rest.slice(SLATE_COLUMNS);
      }
    }
  }
  if (line) lines.push(line);
  if (lines.length > SLATE_REASON_LINES) {
    lines.length = SLATE_REASON_LINES;
    lines[SLATE_REASON_LINES - 1] = `${lines[SLATE_REASON_LINES - 1].slice(0, SLATE_COLUMNS - 1)}…`;
  }
  return [`${sceneId}:`, ...lines];
}

/** A concat-demuxer list; single quotes in paths are escaped the way the demuxer reads them. */
export function concatList(files: string[]): string {
  return `ffconcat version 1.0\n${files.map((f) => `file '${f.replace(/'/g, "'\\''")}'`).join('\n')}\n`;
}

/**
 * Pass 1 of EBU R128 normalization: measure the whole episode's audio, with
 * ffmpeg's reference meter (ebur128: integrated loudness, the number players
 * and QC tools report) and with loudnorm (the values its second pass needs).
 */
export function measureArgs(audioList: string, format: EpisodeFormat): string[] {
  return [
    '-f', 'concat', '-safe', '0', '-i', audioList,
    '-af', `ebur128=framelog=verbose,loudnorm=I=${format.loudness}:TP=${format.truePeak}:LRA=11:print_format=json`,
    '-f', 'null', '-',
  ];
}

export interface LoudnessMeasure {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
}

/**
 * Pass 2 and the episode itself: video stream-copied from the conformed
 * clips, audio encoded once (no AAC priming click at each cut) with the
 * measured values and linear normalization, chapters and title from an
 * FFMETADATA file, +faststart.
 */
export function episodeArgs(input: { videoList: string; audioList: string; metadata: string; format: EpisodeFormat; measured: LoudnessMeasure; out: string }): string[] {
  const filter = loudnessFilter(input.measured, input.format);
  return [
    '-f', 'concat', '-safe', '0', '-i', input.videoList,
    '-f', 'concat', '-safe', '0', '-i', input.audioList,
    '-f', 'ffmetadata', '-i', input.metadata,
    // WAV carries no channel layout; name it, or ffmpeg cannot renegotiate when the concat input moves to the next file.
    '-filter_complex', `[1:a]${filter},aresample=${EPISODE_AUDIO_RATE},aformat=sample_rates=${EPISODE_AUDIO_RATE}:channel_layouts=stereo[a]`,
    '-map', '0:v', '-map', '[a]', '-map_metadata', '2', '-map_chapters', '2',
    '-c:v', 'copy', '-c:a', 'aac', '-b:a', '160k', '-ar', String(EPISODE_AUDIO_RATE),
    '-movflags', '+faststart', '-f', 'mp4', input.out,
  ];
}

/** loudnorm accepts a measured loudness range up to 20 LU. */
const MAX_LRA = 20;

/**
 * Pass-2 filter. loudnorm in linear mode (one gain for the whole episode, no
 * pumping) whenever it can: it needs the measured range within its LRA
 * target, so the target is raised to fit (up to 20 LU, scenes recorded at
 * different levels easily pass 11). Past 20 LU loudnorm can only compress, so
 * the same linear gain is applied directly, with a limiter at the true-peak
 * ceiling.
 */
export function loudnessFilter(m: LoudnessMeasure, format: EpisodeFormat): string {
  const { loudness, truePeak } = format;
  const measuredLra = Number(m.input_lra);
  if (Number.isFinite(measuredLra) && measuredLra < MAX_LRA) {
    const lra = Math.min(MAX_LRA, Math.max(11, Math.ceil(measuredLra) + 1));
    return `loudnorm=I=${loudness}:TP=${truePeak}:LRA=${lra}:measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true`;
  }
  const gainDb = loudness - Number(m.input_i);
  const ceiling = Math.min(1, Math.max(0.0625, 10 ** (truePeak / 20)));
  return `volume=${gainDb.toFixed(2)}dB,alimiter=limit=${ceiling.toFixed(4)}:level=disabled`;
}

/** FFMETADATA with the episode title and one chapter per scene (milliseconds). */
export function ffmetadata(title: string | undefined, chapters: { title: string; startMs: number; endMs: number }[], comment?: string): string {
  const lines = [';FFMETADATA1'];
  if (title) lines.push(`title=${escapeMetadata(title)}`);
  if (comment) lines.push(`comment=${escapeMetadata(comment)}`);
  for (const c of chapters) lines.push('[CHAPTER]', 'TIMEBASE=1/1000', `START=${c.startMs}`, `END=${c.endMs}`, `title=${escapeMetadata(c.title)}`);
  return `${lines.join('\n')}\n`;
}

/** FFMETADATA escapes '=', ';', '#', '\' and newlines with a backslash. */
function escapeMetadata(s: string): string {
  return s.replace(/([=;#\\\n])/g, '\\$1');
}

/**
 * An option value inside a filtergraph, escaped for both levels ffmpeg parses
 * it at: the option value (`\ ' :`), then the graph (`\ ' [ ] , ;`).
 * https://ffmpeg.org/ffmpeg-filters.html#Notes-on-filtergraph-escaping
 */
function filterValue(s: string): string {
  const value = s.replace(/[\\':]/g, (c) => `\\${c}`);
  return value.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}
