/**
 * `cache attach` reads the render, checks it waits on an ambiguous submit,
 * then writes. A render that a live run took over in between (claimed it,
 * found its task, or submitted it again) must not be overwritten: the
 * attach used to set any row in flight on the given id and drop its owner,
 * over a complete render too, so the run's own prediction (paid) or clip
 * was forgotten in favour of the attached one.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { INPUTS } from '../cache/contract.ts';

const claim = (key: string) => ({ key, inputs: INPUTS, episodeId: 'e', sceneId: 's', estimateUsd: 0.15 });
const CLIP = { path: '/c/k.mp4', sha256: 'x', bytes: 10, videoSeconds: 5, billedSeconds: 5, costUsd: 0.15 };

describe('cache attach against a render that changed since it was read', () => {
  it('does not overwrite a render that went in flight or complete meanwhile, and says so', async () => {
    const store = await openStore({ dir: ':memory:', owner: 'host-a:1:1:a' });
    await store.renders.claim(claim('k'));
    await store.renders.markSubmitting('k', '{}');
    await store.renders.markFailed('k', 'answer lost', { status: 'ambiguous' });
    const [{ row: seen }] = await store.admin.rendersByKeyPrefix('k');
    expect(seen.status).toBe('ambiguous');
    // Meanwhile a run claims it and finds its task in the provider's list.
    await store.renders.claim(claim('k'));
    await store.renders.markInFlight('k', 'p-found');
    expect(await store.admin.attach('k', 'p-operator', seen)).toBe(false);
    expect(await store.renders.get('k')).toMatchObject({ status: 'in-flight', prediction_id: 'p-found', owner: 'host-a:1:1:a' });
    await store.renders.markComplete('k', CLIP, 'p-found');
    expect(await store.admin.attach('k', 'p-operator')).toBe(false);
    expect(await store.renders.get('k')).toMatchObject({ status: 'complete', prediction_id: 'p-found' });
    await store.close();
  });

  it('attaches to a render still as it was read', async () => {
    const store = await openStore({ dir: ':memory:', owner: 'host-a:1:1:a' });
    await store.renders.claim(claim('k'));
    await store.renders.markSubmitting('k', '{}');
    await store.renders.markFailed('k', 'answer lost', { status: 'ambiguous' });
    const [{ row: seen }] = await store.admin.rendersByKeyPrefix('k');
    expect(await store.admin.attach('k', 'p-operator', seen)).toBe(true);
    expect(await store.renders.get('k')).toMatchObject({ status: 'in-flight', prediction_id: 'p-operator', owner: null });
    await store.close();
  });
});
