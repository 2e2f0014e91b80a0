/**
 * Every default and limit in one place. Numbers that come from the provider
 * say where they were read.
 */
export const DEFAULTS = {
  cacheDir: './cache',
  outDir: './out',
  /** WaveSpeed's entry tier runs 3 tasks at once and queues the rest. */
  concurrency: 4,
  baseUrl: 'https://api.wavespeed.ai',
  resolution: '480p',
  order: 'meanwhile',
  prompt: '',
} as const;

export const LIMITS = {
  /** A clip longer than this is refused before any spend (DESIGN.md). */
  maxVideoSeconds: 600,
  /** InfiniteTalk's colour drift grows past a minute: warn above this. */
  driftWarnSeconds: 60,
  /** Manifests are hand-written text; anything larger is a mistake. */
  maxManifestBytes: 2 * 1024 * 1024,
  /** YAML aliases allowed per document (billion-laughs guard). */
  maxYamlAliases: 100,
  maxSeed: 2_147_483_647,
  /** Parallel ffprobe/hash jobs while inspecting media. */
  inspectConcurrency: 4,
  /**
   * Shorter audio is refused: 1–50 ms clips made the local renderer fail or
   * ffmpeg spin forever, and no model can lip-sync a tenth of a second.
   */
  minAudioMs: 100,
} as const;

/**
 * Every ffmpeg/ffprobe child is killed when it runs past its timeout (a stuck
 * child is never waited on forever): SIGTERM (ffmpeg closes its output), then
 * SIGKILL after the grace. The numbers are generous on purpose: they catch
 * hangs, not slowness.
 */
export const CHILD_TIMEOUTS = {
  /** Fixed part of an ffmpeg run: start-up, probing, muxing, a busy machine. */
  ffmpegBaseMs: 60_000,
  /**
   * Per second of media the command handles. The local preview encodes 30 s
   * of 480p in 3.35 s on 2 cores (BENCHMARKS.md, ~0.11 s per second); 5 s per
   * second is ~45× that, room for 720p, loudness passes and a loaded machine.
   */
  ffmpegPerMediaSecondMs: 5_000,
  /** When a caller cannot say how much media: the longest scene allowed (LIMITS.maxVideoSeconds). */
  unknownMediaSeconds: 600,
  /** ffprobe reads headers only: a healthy probe takes milliseconds. */
  ffprobeMs: 30_000,
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: 3_000,
} as const;

/**
 * Lines written as text. Limits and the voices are MiniMax Speech 02's on
 * WaveSpeed (https://wavespeed.ai/models/minimax/speech-02-hd, read
 * 2026-11-29); the speaking rate is a planning guess until a voice's own
 * speech has been cached.
 */
export const SPEECH = {
  model: 'speech-02-hd',
  speed: 1,
  volume: 1,
  pitch: 0,
  /** The API refuses longer text; one line this long is 5+ minutes of speech anyway. */
  maxChars: 5_000,
  /** Average English speech is ~14 characters a second (≈ 150 words a minute): the plan's estimate. */
  charsPerSecond: 14,
  /**
   * The safe bound the budget reserves before a line is voiced: a slow,
   * pause-heavy delivery at 6 characters a second, plus a second of lead-in
   * and tail. Real speech at speed 1 has stayed well under it.
   */
  slowestCharsPerSecond: 6,
  padSeconds: 1,
} as const;

/**
 * Edge-silence detection (ffmpeg `silencedetect`, issue 16). A stretch counts
 * as silence when every channel stays below `noiseDb` for at least
 * `minSeconds`. -50 dBFS sits above the room tone of a quiet home studio
 * (about -60 to -55 dBFS) and well below soft speech (about -30 dBFS); text-to-
 * speech output is digital zero between words. 0.1 s is shorter than any pause
 * a listener hears as one, and long enough that the quiet samples around a
 * waveform's zero crossing never count.
 * https://ffmpeg.org/ffmpeg-filters.html#silencedetect
 */
export const SILENCE = {
  noiseDb: -50,
  minSeconds: 0.1,
  /** `trim: edges` keeps this much silence before the first and after the last word, so breaths and lip movement are not cut. */
  trimMarginSeconds: 0.15,
} as const;
