/**
 * Attack (issue 14): every speech submit answers 429 until the line's
 * deadline passes (the fake's 429s prove no task was created each time).
 * The line ends failed, nothing charged, and it is not left "may have been
 * billed": the next run voices it. (~30 s: the deadline's floor under the
 * test time scale is 30 s of wall time.)
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

describe('attack: a line still rate limited at its deadline', () => {
  it('is not held as maybe billed: the next run voices it', { timeout: 90_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.rates('speech', [{ fault: { kind: 'status', status: 429, retryAfter: '2' }, rate: 1 }]);
    const p = scriptProject([['Only one line.']]);
    const render = () => runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report'], fakeEnv(f));
    const first = await render();
    expect(first.code).toBe(1);
    expect(first.stderr).not.toMatch(/may have been billed/);
    expect(f.speechSubmissions).toHaveLength(0);
    f.rates('speech', []);
    const again = await render();
    expect(again.code, again.stderr).toBe(0);
    expect(f.speechSubmissions).toHaveLength(1);
  });
});
