import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as duologue from '../pipeline/index.ts';
import { tinyProject } from './helpers/tasks.ts';

describe('library API', () => {
  it('exports the pipeline steps, and render reports progress to a custom listener', async () => {
    expect(Object.keys(duologue)).toEqual(expect.arrayContaining(['loadManifests', 'plan', 'render', 'stitch', 'RunEvents']));
    const { manifest } = tinyProject();
    const { series } = await duologue.loadManifests([manifest]);
    expect(series.episodes.map((e) => e.id)).toEqual(['ep1']);
    const events = new duologue.RunEvents();
    const done: string[] = [];
    events.on('event', (e) => {
      if (e.type === 'done') done.push(e.scene);
    });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-lib-'));
    const result = await duologue.render([manifest], { provider: 'local', events, cacheDir, outDir: path.join(cacheDir, 'out'), report: false });
    expect(done.sort()).toEqual(['both', 'solo', 'talk']);
    expect(result.episodes[0]).toMatchObject({ status: 'complete', stitch: 'stitched' });
  });
});
