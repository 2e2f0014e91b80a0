import { isAbort } from '../errors.ts';
import type { Store } from '../cache/interfaces.ts';
import type { RunEvents } from '../events.ts';
import type { PlannedScene } from '../plan/index.ts';
import type { Provider, SentSubmit } from '../providers/types.ts';

export type LostAnswer = { kind: 'found'; id: string } | { kind: 'absent'; why: string } | { kind: 'unknown'; why?: string };

/** A submit as the store records it: what was sent, by which claim owner, and when its request ended. */
export interface RecordedSubmit extends SentSubmit {
  /** The claim owner that sent it (`host:pid:start:nonce`). Absent in records of earlier versions. */
  sender?: string;
  /** Epoch ms when its request was over (answered, cut, or never sent), recorded by the sender. */
  closedAt?: number;
  /**
   * The store's clock minus the sender's, as it recorded the submit: the times here are on the
   * sender's clock, and a run on another machine reads them on its own through the store's (one
   * for all machines on a shared store), so clocks minutes apart do not shorten the window.
   */
  storeOffset?: number;
}

/**
 * Whether a submit whose answer is unknown can still create a task, before
 * anyone looks for it or pays again. `settled`: its request can no longer be
 * on its way after `latestSend` (absent looks count from there); `open`: it
 * may still be (its sender stopped renewing its claim mid-submit and may only
 * be paused, its request open), so nothing proves a new submit would not be
 * paid twice; `legacy`: recorded before senders said so (looked up as before,
 * from its start).
 */
export type SendState = { kind: 'settled'; latestSend: number } | { kind: 'open'; sender: string } | { kind: 'legacy' };

/** `now` and `readerOffset` (the store's clock minus the reader's) are the reader's; `latestSend` is on its clock. */
export function sendState(sent: RecordedSubmit, now: number, senderGone: (owner: string) => boolean, readerOffset?: number): SendState {
  const shift = sent.storeOffset !== undefined && readerOffset !== undefined ? sent.storeOffset - readerOffset : 0;
  const sendBy = sent.sendBy === undefined ? undefined : sent.sendBy + shift;
  // A request cut before its deadline was never written after it: the earlier bound holds.
  const bound = (t: number) => ({ kind: 'settled' as const, latestSend: Math.min(t, sendBy ?? t) });
  if (sent.closedAt !== undefined) return bound(sent.closedAt + shift);
  if (sent.sender === undefined) return { kind: 'legacy' };
  // Its process is gone, and its sockets with it: nothing of it is on its way after now.
  if (senderGone(sent.sender)) return bound(now);
  return { kind: 'open', sender: sent.sender };
}

/**
 * When a submit started, on the store's clock (the one its rows' times are on): its sender's own clock
 * may be hours off the store's. A record without the offset (earlier versions, one machine) is taken as is.
 */
export function sentAtOnStore(sent: Pick<RecordedSubmit, 'at' | 'storeOffset'>): number {
  return sent.at + (sent.storeOffset ?? 0);
}

/** The end of a submit's request, as the sender records it. */
export function closedRecord(sentJson: string, at: number): string {
  return JSON.stringify({ ...(JSON.parse(sentJson) as RecordedSubmit), closedAt: at });
}

/**
 * Looks for the task a submit whose answer was lost may have created.
 * `found`: attach it; `absent`: the provider shows there is none, it may be
 * submitted again; `unknown`: the provider cannot look, or its list could not
 * be read, so a person decides. `latestSend`: see {@link sendState}.
 */
export async function findLostAnswer(
  deps: { provider: Provider; store: Pick<Store, 'renders'>; events: RunEvents },
  scene: PlannedScene,
  sentJson: string | null | undefined,
  why: string,
  signal: AbortSignal,
  latestSend?: number,
): Promise<LostAnswer> {
  if (!deps.provider.findSubmitted || !sentJson) return { kind: 'unknown' };
  const recorded = JSON.parse(sentJson) as RecordedSubmit;
  // The provider's list is filtered on its own clock: the window is built from the submit's start on the
  // store's clock (one for every machine, and unlike a machine's own not hours off unnoticed), not on
  // its sender's, which may run hours ahead or behind (a window there misses the task, and it is paid again).
  const sent = { ...recorded, at: sentAtOnStore(recorded) };
  deps.events.emitEvent({ type: 'progress', episode: scene.episodeId, scene: scene.sceneId, status: `looking for the task of a submit whose answer was lost (${why})` });
  try {
    // A key's earlier predictions are never the lost one.
    const id = await deps.provider.findSubmitted(sent, { signal, knownIds: await deps.store.renders.predictionIds(scene.key), latestSend });
    if (id) return { kind: 'found', id };
    return { kind: 'absent', why: `submitted again: the provider's prediction list showed no task for its lost submit of ${new Date(sent.at).toISOString()} on two looks` };
  } catch (error) {
    if (isAbort(error)) throw error;
    return { kind: 'unknown', why: `the prediction list could not be read (${(error as Error).message})` };
  }
}
