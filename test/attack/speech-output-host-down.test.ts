/**
 * Attack (issue 14): the output host (CDN) fails while a completed, billed
 * speech is fetched (connections reset past every retry; then a 404 while
 * the provider still has it). The speech is paid and may be fine: its
 * prediction is kept and the next run fetches it again at no charge, never
 * voicing (paying for) the line again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { startFake } from '../helpers/engine.ts';
import { fakeEnv, scriptProject } from '../helpers/script-project.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

describe('attack: the output host fails while speech is fetched', () => {
  // Resets are retried within a run (12 last two runs); a 404 is not (two runs of it, under the three a person is asked after).
  for (const [what, fault, count] of [
    ['connections reset past every retry', { kind: 'reset' }, 12],
    ['a 404 from the output host', { kind: 'status', status: 404 }, 2],
  ] as const) {
    it(`${what}: the next run fetches the paid speech again, it does not voice the line again`, { timeout: 60_000 }, async () => {
      const f = await startFake();
      fakes.push(f);
      f.script('output', ...Array.from({ length: count }, () => fault));
      const p = scriptProject([['Only one line.']]);
      const render = () => runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report'], fakeEnv(f));
      const first = await render();
      expect(first.code).toBe(1);
      expect(f.speechSubmissions).toHaveLength(1);
      // Whatever faults are left, the next runs fetch it (once the host answers) and never pay again.
      for (let i = 0; i < 4 && (await render()).code !== 0; i++);
      expect(f.speechSubmissions).toHaveLength(1);
      expect(f.submissions).toHaveLength(1);
    });
  }
});
