import type { MediaFacts } from '../../pipeline/media/facts.ts';
import type { EpisodeSpec, MediaRef, SceneSpec, Series } from '../../pipeline/types.ts';

/** Plain-object builders for pure planning tests. */
export function ref(location: string): MediaRef {
  return { given: location, kind: 'file', location, file: 'm.yaml', pos: { line: 1, col: 1 } };
}

export function scene(episodeId: string, sceneId: string, over: Partial<SceneSpec> = {}): SceneSpec {
  return {
    episodeId,
    sceneId,
    title: sceneId,
    file: 'm.yaml',
    pos: { line: 1, col: 1 },
    image: ref('img'),
    resolution: '480p',
    order: 'meanwhile',
    prompt: '',
    seed: { kind: 'fixed', value: 1 },
    audio: { form: 'pair', left: ref('a10'), right: ref('b10') },
    ...over,
  };
}

export function episode(id: string, scenes: SceneSpec[]): EpisodeSpec {
  return { id, format: {}, file: 'm.yaml', pos: { line: 1, col: 1 }, scenes };
}

export function series(episodes: EpisodeSpec[], budget?: number): Series {
  return { manifests: [{ file: 'm.yaml', budget, episodes: episodes.map((e) => e.id) }], episodes };
}

/** Audio facts by name: `a10` is 10 s of audio with hash "sha-a10". */
export function media(extra: Record<string, number> = {}): Map<string, MediaFacts> {
  const m = new Map<string, MediaFacts>();
  m.set('img', { kind: 'image', sha256: 'sha-img', localPath: 'img', width: 854, height: 480 });
  const audio: Record<string, number> = { a10: 10_000, b10: 10_000, a3: 3_000, b20: 20_000, ...extra };
  for (const [name, ms] of Object.entries(audio)) m.set(name, { kind: 'audio', sha256: `sha-${name}`, localPath: name, durationMs: ms, sampleRate: 16_000, channels: 1 });
  return m;
}
