/**
 * A tiny project whose lines are all text (voiced by the cast), for the
 * speech attacks: one episode per entry of `episodes`, one scene of two
 * lines each, on the fixture image; and the CLI's env against a fake.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY } from './engine.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/media');

export function scriptProject(episodes: string[][] = [['Morning. The kettle is on.', 'Good. I was up half the night.']], extra = ''): { dir: string; manifest: string; cacheDir: string; outDir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-speech-attack-'));
  copyFileSync(path.join(fixtures, 'two-people.png'), path.join(dir, 'two-people.png'));
  const eps = episodes
    .map(
      (lines, i) => `  - id: ep${i + 1}
    scenes:
      - id: talk
        seed: ${11 + i}
        lines:
${lines.map((text, n) => `          - ${n % 2 === 0 ? 'left' : 'right'}: { say: ${JSON.stringify(text)} }`).join('\n')}
`,
    )
    .join('');
  const manifest = path.join(dir, 'script.yaml');
  writeFileSync(
    manifest,
    `version: 1
defaults: { image: two-people.png, prompt: two people talking, resolution: 480p }
cast:
  left: { voice: Wise_Woman }
  right: { voice: Deep_Voice_Man }
${extra}episodes:
${eps}`,
  );
  return { dir, manifest, cacheDir: path.join(dir, 'cache'), outDir: path.join(dir, 'out') };
}

export function fakeEnv(fake: FakeWavespeed, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.02', ...extra };
}

/** NDJSON events of a `--json` run. */
export function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
