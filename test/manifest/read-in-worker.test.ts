import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestErrors } from '../../pipeline/errors.ts';
import { readManifests } from '../../pipeline/manifest/load.ts';
import { readManifestsInWorker, readManifestsWhere } from '../../pipeline/manifest/read-in-worker.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { tinyProject } from '../helpers/tasks.ts';

const invalidDir = path.join(import.meta.dirname, '../fixtures/invalid');
const invalid = readdirSync(invalidDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(invalidDir, f));

describe('reading manifests in a worker thread', () => {
  it('gives the same series as the main thread: both scene forms, lines written as text with a cast, a second manifest', async () => {
    const { dir, manifest } = tinyProject();
    const spoken = path.join(dir, 'spoken.yaml');
    writeFileSync(
      spoken,
      `version: 1
defaults: { image: two-people.png }
cast:
  left: { voice: Wise_Woman, speed: 1.2, emotion: happy }
  right: { voice: Deep_Voice_Man }
episodes:
  - id: ep2
    title: Second
    scenes:
      - id: s1
        lines:
          - left: { say: "Hello there." }
          - right: { say: "Hi.", emotion: sad }
            pause: 0.25
          - left: tone-1s.wav
      - { id: s2, left: tone-1s.wav, right: tone-2500ms.wav, seed: random }
`,
    );
    const files = [manifest, spoken];
    const here = await readManifests(files);
    expect(here.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(here.series.episodes.flatMap((e) => e.scenes)).toHaveLength(5);
    expect(await readManifestsInWorker(files)).toStrictEqual(here);
  });

  it('gives the same diagnostics, positions included, for every invalid fixture (and a missing file)', async () => {
    const files = [...invalid, path.join(invalidDir, 'no-such-manifest.yaml')];
    const here = await readManifests(files);
    expect(here.diagnostics.length).toBeGreaterThanOrEqual(invalid.length);
    expect(here.diagnostics.some((d) => d.line !== undefined && d.col !== undefined)).toBe(true);
    expect(await readManifestsInWorker(files)).toStrictEqual(here);
  });

  it('prepare and plan give the same result through either; an invalid manifest throws the same ManifestErrors', async () => {
    const { manifest } = tinyProject();
    const store = await openStore({ dir: ':memory:' });
    const info = PROVIDERS.wavespeed;
    const options = { memo: store.files, ffmpeg: resolveFfmpegPaths(), prices: info.prices, random: () => 7 };
    try {
      const thread = await prepare([manifest], { ...options, readIn: 'thread' });
      const worker = await prepare([manifest], { ...options, readIn: 'worker' });
      expect(worker).toStrictEqual(thread);
      expect(plan({ ...worker, provider: info })).toStrictEqual(plan({ ...thread, provider: info }));

      const bad = invalid[0];
      const inThread = await prepare([bad], { ...options, readIn: 'thread' }).catch((e: unknown) => e);
      const inWorker = await prepare([bad], { ...options, readIn: 'worker' }).catch((e: unknown) => e);
      expect(inThread).toBeInstanceOf(ManifestErrors);
      expect(inWorker).toBeInstanceOf(ManifestErrors);
      expect((inWorker as ManifestErrors).diagnostics).toStrictEqual((inThread as ManifestErrors).diagnostics);
      expect((inWorker as Error).message).toBe((inThread as Error).message);
    } finally {
      await store.close();
    }
  });

  it('stops on abort, before starting a thread or while it reads', async () => {
    const { manifest } = tinyProject();
    const before = new AbortController();
    before.abort(new Error('stop'));
    await expect(readManifestsInWorker([manifest], before.signal)).rejects.toMatchObject({ code: 'E_ABORTED' });
    const during = new AbortController();
    const reading = readManifestsWhere([manifest], 'worker', during.signal);
    during.abort(new Error('stop'));
    await expect(reading).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
