import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../pipeline/cache/store.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { plan, type PlannedScene } from '../../pipeline/plan/index.ts';
import { prepare } from '../../pipeline/run/prepare.ts';
import { PROVIDERS, type ProviderId } from '../../pipeline/providers/info.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/media');

/** A temp folder with the tiny fixture media and a manifest using both scene forms. */
export function tinyProject(manifest?: string): { dir: string; manifest: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'duologue-proj-'));
  for (const f of ['tone-1s.wav', 'tone-2500ms.wav', 'two-people.png']) copyFileSync(path.join(fixtures, f), path.join(dir, f));
  const file = path.join(dir, 'show.yaml');
  writeFileSync(
    file,
    manifest ??
      `version: 1
defaults: { image: two-people.png, prompt: two people talking }
episodes:
  - id: ep1
    scenes:
      - { id: both, left: tone-1s.wav, right: tone-2500ms.wav, order: left_right, seed: 11 }
      - { id: talk, lines: [{ left: tone-1s.wav }, { right: tone-1s.wav, pause: 0.5 }], seed: 12 }
      - { id: solo, right: tone-2500ms.wav, resolution: 720p }
`,
  );
  return { dir, manifest: file };
}

/** Plans a manifest and returns its scenes as provider tasks. */
export async function plannedTasks(manifest: string, provider: ProviderId = 'wavespeed'): Promise<PlannedScene[]> {
  const store = await openStore({ dir: ':memory:' });
  const info = PROVIDERS[provider];
  const prepared = await prepare([manifest], { memo: store.files, ffmpeg: resolveFfmpegPaths(), prices: info.prices });
  await store.close();
  return plan({ ...prepared, provider: info }).episodes.flatMap((e) => e.scenes);
}
