/**
 * The domain's types, at the bottom of the tree: a series as the manifests
 * describe it once read and resolved. Every layer above speaks these; this
 * module imports nothing.
 */

/** Who speaks when: both at once, or one after the other. */
export type Order = 'meanwhile' | 'left_right' | 'right_left';

export type Resolution = '480p' | '720p';

/** 1-based line and column in a manifest. */
export interface Position {
  line: number;
  col: number;
}

/**
 * A line written as text (`{ say: ... }`), with its voice resolved from the
 * cast and the line's own overrides: everything the speech's cache key is
 * made of.
 */
export interface SpeechSpec {
  text: string;
  voice: string;
  /** `speech-02-hd` or `speech-02-turbo` (the local provider keys on its own model). */
  model: string;
  speed: number;
  volume: number;
  pitch: number;
  emotion?: string;
}

/** A media input as written, resolved: a local file, an http(s) URL, or text still to be voiced. */
export interface MediaRef {
  /** The text in the manifest, for messages. */
  given: string;
  /** `speech`: a `{ say }` line; prepare turns it into a `file` once its audio exists. */
  kind: 'file' | 'url' | 'speech';
  /** Absolute path (file), the URL (url), or `speech:<text hash>` until voiced. */
  location: string;
  /** The line's text and voice (kind `speech`, and kept once voiced, for the report). */
  speech?: SpeechSpec;
  /** Where it was written: file and position. */
  file: string;
  pos: Position;
}

export type Side = 'left' | 'right';

export interface DialogueLine {
  side: Side;
  media: MediaRef;
  /** Silence before the line, in whole milliseconds. */
  pauseMs: number;
}

export type SceneAudio =
  | { form: 'pair'; left?: MediaRef; right?: MediaRef }
  | { form: 'lines'; lines: DialogueLine[] };

export type SeedSpec =
  | { kind: 'fixed'; value: number }
  /** No seed anywhere: derived from the episode and scene ids (stable). */
  | { kind: 'derived'; value: number }
  /** "random" / -1: drawn at plan time, then shown so it can be pinned. */
  | { kind: 'random' };

export interface SceneSpec {
  episodeId: string;
  sceneId: string;
  title: string;
  file: string;
  pos: Position;
  image: MediaRef;
  resolution: Resolution;
  /** The order sent to the API (a lines scene is always `meanwhile`). */
  order: Order;
  prompt: string;
  seed: SeedSpec;
  audio: SceneAudio;
  /** `trim: edges`: silence beyond this margin is cut from both ends of the tracks sent. Absent: tracks sent whole. */
  trim?: { marginMs: number };
}

export interface EpisodeFormatSpec {
  resolution?: Resolution;
  loudness?: number;
  truePeak?: number;
}

export interface EpisodeSpec {
  id: string;
  /** Stitching settings (episode over top level); unset fields take defaults. */
  format: EpisodeFormatSpec;
  title?: string;
  /** Absolute path when the manifest sets `output:`; else the CLI's `<out>/<id>.mp4`. */
  output?: string;
  /** `output:` as written, and where (for messages). */
  outputGiven?: string;
  outputPos?: Position;
  file: string;
  pos: Position;
  scenes: SceneSpec[];
}

export interface ManifestInfo {
  file: string;
  title?: string;
  budget?: number;
  episodes: string[];
}

/** Everything the run was given, normalized: episodes in manifest order. */
export interface Series {
  manifests: ManifestInfo[];
  episodes: EpisodeSpec[];
}
