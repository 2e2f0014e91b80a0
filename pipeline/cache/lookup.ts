import type { CacheLookup } from '../plan/index.ts';
import type { SceneSpec } from '../types.ts';
import type { ClipStore } from './clips/index.ts';
import type { RenderRow, RenderStore } from './interfaces.ts';
import { locateClip } from './clips/locate.ts';
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
  { clipsDir, clips, now = Date.now, signal }: { clipsDir?: string; clips?: ClipStore; now?: () => number; signal?: AbortSignal } = {},
): Promise<(key: string, inputs: CacheKeyInput, scene: SceneSpec) => CacheLookup> {
  const [rows, lastKeys] = await Promise.all([
    renders.getMany([...new Set(scenes.map((s) => s.key))]),
    renders.lastSceneKeys(scenes.map((s) => ({ episodeId: s.spec.episodeId, sceneId: s.spec.sceneId }))),
  ]);
  // A shared store's clips are judged now: a clip missing here but in the bucket is a hit (fetched
  // when the render reaches it), and each look may be a request, so a few go at a time. This
  // machine's files are judged when the plan asks (a stat each).
  const problems = new Map<string, string | undefined>();
  if (clips?.shared) {
    const complete = [...rows.values()].filter((r) => r.status === 'complete');
    for (let i = 0; i < complete.length; i += 16) {
      await Promise.all(complete.slice(i, i + 16).map(async (row) => problems.set(row.key, await clips.problem(row, signal))));
    }
  }
  const problemOf = (row: RenderRow): string | undefined => {
    if (clips?.shared) return problems.get(row.key);
    const found = locateClip(row, clips?.clipsDir ?? clipsDir);
    return 'problem' in found ? found.problem : undefined;
  };
  return (key, inputs, scene) => {
    const row = rows.get(key);
    if (row) {
      if (row.status === 'complete') {
        const problem = problemOf(row);
        return problem !== undefined ? { status: 'miss', reason: problem } : { status: 'hit' };
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
