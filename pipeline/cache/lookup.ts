import type { CacheLookup } from '../plan/index.ts';
import type { SceneSpec } from '../types.ts';
import { locateClip } from './clips/index.ts';
import type { RenderStore } from './interfaces.ts';
import type { CacheKeyInput } from '../plan/key.ts';
import { ownerAlive } from './owner.ts';

/**
 * The plan's view of the cache: hit (clip present and whole), in-flight
 * (submitted, or being worked on by a live process), or miss — with the
 * reason when this scene was rendered before with other inputs. The rows of
 * every scene the plan will ask about are read first, at once (the plan
 * itself does no I/O); each answer is judged when the plan asks.
 */
export async function readCacheLookup(
  renders: Pick<RenderStore, 'getMany' | 'lastSceneKeys'>,
  scenes: readonly { key: string; spec: SceneSpec }[],
  { clipsDir, now = Date.now }: { clipsDir?: string; now?: () => number } = {},
): Promise<(key: string, inputs: CacheKeyInput, scene: SceneSpec) => CacheLookup> {
  const [rows, lastKeys] = await Promise.all([
    renders.getMany([...new Set(scenes.map((s) => s.key))]),
    renders.lastSceneKeys(scenes.map((s) => ({ episodeId: s.spec.episodeId, sceneId: s.spec.sceneId }))),
  ]);
  return (key, inputs, scene) => {
    const row = rows.get(key);
    if (row) {
      if (row.status === 'complete') {
        const clip = locateClip(row, clipsDir);
        return 'problem' in clip ? { status: 'miss', reason: clip.problem } : { status: 'hit' };
      }
      if (row.status === 'in-flight') return { status: 'in-flight', reason: `prediction ${row.prediction_id}` };
      if ((row.status === 'pending' || row.status === 'submitting') && row.owner && ownerAlive(row.owner, row.lease_until ?? 0, now())) {
        return { status: 'in-flight', reason: 'another run is rendering it' };
      }
      if (row.status === 'submitting' || row.status === 'ambiguous') {
        return { status: 'miss', reason: 'a previous submit may have been billed (ambiguous); see `duologue status`' };
      }
      if (row.status === 'failed') {
        const refusedSeconds = row.paid_attempts > 0 && row.video_seconds ? row.video_seconds : undefined;
        return { status: 'miss', reason: `last attempt failed: ${row.error ?? 'unknown error'}`, ...(refusedSeconds ? { refusedSeconds } : {}) };
      }
    }
    const previous = lastKeys.get(`${scene.episodeId}/${scene.sceneId}`);
    if (previous && previous.key !== key) return { status: 'miss', reason: whatChanged(previous.inputs, inputs) };
    return { status: 'miss' };
  };
}

const NAMES: [keyof CacheKeyInput, string][] = [
  ['provider', 'provider'],
  ['model', 'model'],
  ['imageSha256', 'image'],
  ['left', 'left audio'],
  ['right', 'right audio'],
  ['prompt', 'prompt'],
  ['order', 'order'],
  ['resolution', 'resolution'],
  ['seed', 'seed'],
];

/** "left audio changed, seed changed (42 → 43)". */
export function whatChanged(before: CacheKeyInput, after: CacheKeyInput): string {
  const changes = NAMES.filter(([field]) => before[field] !== after[field]).map(([field, name]) => {
    const show = field === 'seed' || field === 'order' || field === 'resolution' || field === 'provider';
    return `${name} changed${show ? ` (${before[field]} → ${after[field]})` : ''}`;
  });
  return changes.length > 0 ? changes.join(', ') : 'key version changed';
}
