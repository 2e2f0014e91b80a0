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
} as const;
