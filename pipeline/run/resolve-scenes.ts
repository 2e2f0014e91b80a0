/**
 * A scene released by the SceneGate gets its exact figures: the manifests
 * of its episodes are planned again, now that its lines' speech is cached
 * (so their audio is a file, hashed and measured like any other), and the
 * scene's key, inputs, length and cost are written into the run's plan
 * object in place (the scheduler, the finisher and the report all hold that
 * object). Planned under no cap: its episode was admitted already, on the
 * upper bound, and its video submit reserves the exact cost.
 */
import type { PriceTable } from '../cost/price-table.ts';
import type { PlannedScene } from '../plan/index.ts';
import { NOT_VOICED } from '../schedule/deferred.ts';
import type { PriceCheck } from './late-quote.ts';
import type { ManifestPlan } from './plan-manifests.ts';

/**
 * `replan(episodeIds)`: planManifests on those episodes, uncapped, unvoiced scenes skipped.
 * `check`: the live price of a resolution preflight could not quote (late-quote.ts).
 */
export function sceneResolver(replan: (episodeIds: string[]) => Promise<Pick<ManifestPlan, 'planWith'>>, prices: PriceTable, check?: PriceCheck): (scenes: PlannedScene[]) => Promise<void> {
  return async (scenes) => {
    const episodes = [...new Set(scenes.map((s) => s.episodeId))];
    const exact = (await replan(episodes)).planWith(prices);
    const found = new Map(exact.episodes.flatMap((e) => e.scenes).map((s) => [`${s.episodeId}\n${s.sceneId}`, s]));
    for (const scene of scenes) {
      const now = found.get(`${scene.episodeId}\n${scene.sceneId}`);
      if (!now || now.pendingSpeech.length > 0) {
        // A line is still text (its audio went missing in between): no key can be proved.
        Object.assign(scene, { action: 'skip', skipReason: NOT_VOICED, costUsd: 0 });
        continue;
      }
      Object.assign(scene, now);
      const refused = await check?.(scene);
      if (refused !== undefined) Object.assign(scene, { action: 'skip', skipReason: refused, costUsd: 0 });
    }
  };
}
