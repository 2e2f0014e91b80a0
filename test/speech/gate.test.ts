/** The SceneGate on plain objects: a scene is released when its own lines are settled, exact or skipped, each once. */
import { describe, expect, it } from 'vitest';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import { NOT_VOICED, SceneGate } from '../../pipeline/schedule/deferred.ts';

const scene = (sceneId: string, keys: string[], action: PlannedScene['action'] = 'render') =>
  ({ episodeId: 'e1', sceneId, key: `est-${sceneId}`, action, costUsd: 1, pendingSpeech: keys.map((key) => ({ key, usd: 0.01, ms: 1000, maxMs: 2000, charsPerSecond: 14, learned: false })) }) as unknown as PlannedScene;

describe('SceneGate', () => {
  it("releases each scene as its own last line settles, with the exact figures resolve gives it; a scene with a line not voiced is skipped; close() ends it", async () => {
    const a = scene('a', ['k1', 'k2']);
    const b = scene('b', ['k2', 'k3']); // k2 said in both scenes: voiced once
    const c = scene('c', ['k4']);
    const ready = scene('ready', []); // nothing to voice: not held
    const resolved: string[][] = [];
    const gate = new SceneGate({ episodes: [{ scenes: [a, b, c, ready] }] } as never, async (scenes) => {
      resolved.push(scenes.map((s) => s.sceneId));
      for (const s of scenes) Object.assign(s, { key: `exact-${s.sceneId}`, pendingSpeech: [] });
    });
    expect([...gate.held].map((s) => s.sceneId)).toEqual(['a', 'b', 'c']);

    gate.settled('k1', true);
    gate.settled('k2', true);
    expect(await gate.next()).toEqual([a]); // b still waits for k3
    expect(a.key).toBe('exact-a');
    gate.settled('k4', false);
    expect(await gate.next()).toEqual([c]);
    expect(c).toMatchObject({ action: 'skip', skipReason: NOT_VOICED, costUsd: 0, key: 'est-c' }); // never resolved: no key is guessed
    const last = gate.next();
    gate.close(); // k3 never settled (the stage stopped)
    expect(await last).toEqual([b]);
    expect(b).toMatchObject({ action: 'skip', skipReason: NOT_VOICED });
    expect(await gate.next()).toBeNull();
    expect(resolved).toEqual([['a']]);
  });

  it('a scene whose figures cannot be computed is skipped, never released on its estimate', async () => {
    const a = scene('a', ['k1']);
    const gate = new SceneGate({ episodes: [{ scenes: [a] }] } as never, async () => {
      throw new Error('audio gone');
    });
    gate.settled('k1', true);
    expect(await gate.next()).toEqual([a]);
    expect(a).toMatchObject({ action: 'skip', skipReason: expect.stringContaining('audio gone') });
    gate.close();
    expect(await gate.next()).toBeNull();
  });
});
