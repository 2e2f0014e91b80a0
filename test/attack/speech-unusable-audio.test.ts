/**
 * Attack (issue 14): every speech WaveSpeed completes (and bills) comes
 * back as something that is not audio. A paid, unusable result counts
 * against the line as it does against a video key: the line is voiced at
 * most twice (MAX_PAID_ATTEMPTS), then held, however many nightly runs
 * follow; never paid for again and again.
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

describe('attack: paid speech that is never usable', () => {
  it('a line is paid at most twice over four runs, then held', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.rates('output', [{ fault: { kind: 'not-mp4' }, rate: 1 }]);
    const p = scriptProject([['Only one line.']]);
    let last = '';
    for (let run = 0; run < 4; run++) {
      const cli = await runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report'], fakeEnv(f));
      expect(cli.code).toBe(1);
      last = cli.stderr;
    }
    expect(f.speechSubmissions.length, last).toBeLessThanOrEqual(2);
    expect(f.submissions).toHaveLength(0);
    expect(last).toMatch(/held/i);
  });
});

describe('attack: the way out of a held line', () => {
  it('--retry-held voices it once more', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.script('output', { kind: 'not-mp4' }, { kind: 'not-mp4' });
    const p = scriptProject([['Only one line.']]);
    const render = (extra: string[] = []) => runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report', ...extra], fakeEnv(f));
    expect((await render()).code).toBe(1);
    expect((await render()).code).toBe(1);
    expect((await render()).code).toBe(1); // held
    expect(f.speechSubmissions).toHaveLength(2);
    const again = await render(['--retry-held']);
    expect(again.code, again.stderr).toBe(0);
    expect(f.speechSubmissions).toHaveLength(3);
  });
});
