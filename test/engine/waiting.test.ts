/** A key another live run holds is waited for without taking a concurrency slot: a paused run elsewhere cannot stall this one. */
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render } from '../../pipeline/run/render.ts';
import { runCli } from '../helpers/cli.ts';
import { until } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const MANIFEST = `version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
      - { id: held, left: tone-2500ms.wav, right: tone-2500ms.wav, order: left_right, seed: 1 }
      - { id: free, left: tone-1s.wav, seed: 2 }
`;

describe('waiting for another run', () => {
  it('with --concurrency 1, a key held by a live run does not keep the other scenes from rendering', async () => {
    const { manifest } = tinyProject(MANIFEST);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-waiting-'));
    const plan = JSON.parse((await runCli(['plan', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--json'])).stdout);
    const held = plan.episodes[0].scenes[0];
    // A live process on this host (this one, as another run) holds the longest scene, submitted first.
    const other = await openStore({ dir: cacheDir, owner: `${hostname()}:${process.pid}::another-run` });
    expect((await other.renders.claim({ key: held.key, inputs: { provider: 'local', model: 'm', imageSha256: '', left: '', right: '', prompt: '', order: 'left_right', resolution: '480p', seed: 1 }, episodeId: 'ep1', sceneId: 'held', estimateUsd: 0 })).kind).toBe('claimed');
    await other.close();

    const stop = new AbortController();
    const events = new RunEvents();
    const seen: RunEvent[] = [];
    events.on('event', (e) => seen.push(e));
    const run = render([manifest], { provider: 'local', cacheDir, outDir: path.join(cacheDir, 'out'), concurrency: 1, waitPollMs: 20, signal: stop.signal, events, report: false });
    await until(() => seen.some((e) => e.type === 'done' && e.scene === 'free'), 'the free scene to render while the held one waits', 30_000);
    expect(seen.some((e) => e.type === 'waiting' && e.scene === 'held')).toBe(true);
    stop.abort();
    const result = await run;
    expect(result.schedule.scenes.map((s) => [s.scene.sceneId, s.outcome])).toEqual([
      ['held', 'interrupted'],
      ['free', 'rendered'],
    ]);
  });
});
