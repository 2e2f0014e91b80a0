import type { DataPath } from './source.ts';

/**
 * `episode/scene` (or `episode`) for a path into the manifest data, using the
 * ids written in the file where they exist and `#N` (1-based) where not.
 */
export function whereOf(data: unknown, path: DataPath): string | undefined {
  if (path[0] !== 'episodes' || typeof path[1] !== 'number') return undefined;
  const episode = (data as { episodes?: unknown[] })?.episodes?.[path[1]];
  const episodeName = idOr(episode, `episode#${path[1] + 1}`);
  if (path[2] !== 'scenes' || typeof path[3] !== 'number') return episodeName;
  const scene = (episode as { scenes?: unknown[] })?.scenes?.[path[3]];
  return `${episodeName}/${idOr(scene, `scene#${path[3] + 1}`)}`;
}

function idOr(value: unknown, fallback: string): string {
  const id = (value as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && id !== '' ? id : fallback;
}

/** `/episodes/0/scenes/1` (ajv's instancePath) → ['episodes', 0, 'scenes', 1]. */
export function pointerToPath(pointer: string): DataPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
