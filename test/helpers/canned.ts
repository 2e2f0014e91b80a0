import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalProvider } from '../../pipeline/providers/local/provider.ts';
import { ffmpeg } from './engine.ts';
import { plannedTasks, tinyProject } from './tasks.ts';

/** A real 1 s clip (the local renderer's), for fake servers that serve one output to every task. */
export async function cannedClip(): Promise<string> {
  const { manifest } = tinyProject('version: 1\nepisodes:\n  - id: e\n    scenes:\n      - { id: s, image: two-people.png, left: tone-1s.wav }\n');
  const [task] = await plannedTasks(manifest, 'local');
  const provider = createLocalProvider({ workDir: mkdtempSync(path.join(tmpdir(), 'dl-canned-')), ffmpeg });
  const { predictionId } = await provider.submit(task);
  const result = await provider.wait(predictionId, task);
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'dl-canned-out-')), 'canned.mp4');
  await provider.download(result, task, out);
  return out;
}

/** n one-second scenes (distinct seeds, so distinct keys) over e episodes. */
export function oneSecondSeries(n: number, episodes = 2): string {
  const lines = ['version: 1', 'defaults: { image: two-people.png }', 'episodes:'];
  for (let e = 0; e < episodes; e++) {
    lines.push(`  - id: ep${e}`, '    scenes:');
    for (let i = e; i < n; i += episodes) lines.push(`      - { id: s${i}, left: tone-1s.wav, seed: ${i + 1} }`);
  }
  return `${lines.join('\n')}\n`;
}
