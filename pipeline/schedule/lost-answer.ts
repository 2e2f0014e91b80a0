import { isAbort } from '../errors.ts';
import type { Store } from '../cache/interfaces.ts';
import type { RunEvents } from '../events.ts';
import type { PlannedScene } from '../plan/index.ts';
import type { Provider, SentSubmit } from '../providers/types.ts';

export type LostAnswer = { kind: 'found'; id: string } | { kind: 'absent'; why: string } | { kind: 'unknown'; why?: string };

/**
 * Looks for the task a submit whose answer was lost may have created.
 * `found`: attach it; `absent`: the provider shows there is none, it may be
 * submitted again; `unknown`: the provider cannot look, or its list could not
 * be read, so a person decides.
 */
export async function findLostAnswer(
  deps: { provider: Provider; store: Pick<Store, 'renders'>; events: RunEvents },
  scene: PlannedScene,
  sentJson: string | null | undefined,
  why: string,
  signal: AbortSignal,
): Promise<LostAnswer> {
  if (!deps.provider.findSubmitted || !sentJson) return { kind: 'unknown' };
  const sent = JSON.parse(sentJson) as SentSubmit;
  deps.events.emitEvent({ type: 'progress', episode: scene.episodeId, scene: scene.sceneId, status: `looking for the task of a submit whose answer was lost (${why})` });
  try {
    // A key's earlier predictions are never the lost one.
    const id = await deps.provider.findSubmitted(sent, { signal, knownIds: await deps.store.renders.predictionIds(scene.key) });
    if (id) return { kind: 'found', id };
    return { kind: 'absent', why: `submitted again: the provider's prediction list showed no task for its lost submit of ${new Date(sent.at).toISOString()} on two looks` };
  } catch (error) {
    if (isAbort(error)) throw error;
    return { kind: 'unknown', why: `the prediction list could not be read (${(error as Error).message})` };
  }
}
