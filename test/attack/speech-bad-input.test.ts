/**
 * Attack (issue 14): lines whose text or voice the provider would refuse.
 * Each is a positioned manifest error (file:line:col, episode/scene) from
 * `validate` and from `render`, exit 2, before any request is sent.
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

const cases: [string, string, RegExp][] = [
  ['empty text', `{ say: "" }`, /say/],
  ['blank text', `{ say: "   " }`, /say/],
  ['over-long text', `{ say: "${'a'.repeat(5001)}" }`, /5[,.]?000/],
  ['a voice id that is no voice', `{ say: "Hello there.", voice: "not a voice!" }`, /voice/],
  // A cloned voice id may be anything shaped like one, but a system voice in the wrong case is a typo the API would refuse mid-run.
  ['a system voice in the wrong case', `{ say: "Hello there.", voice: wise_woman }`, /Wise_Woman/],
  ['an emotion MiniMax does not know', `{ say: "Hello there.", emotion: ecstatic }`, /emotion/],
];

describe('attack: bad lines written as text', () => {
  for (const [what, line, mention] of cases) {
    it(`${what}: a positioned error, exit 2, nothing sent`, { timeout: 30_000 }, async () => {
      const f = await startFake();
      fakes.push(f);
      const p = scriptProject([['Fine.', 'PLACEHOLDER']]);
      const { readFileSync, writeFileSync } = await import('node:fs');
      writeFileSync(p.manifest, readFileSync(p.manifest, 'utf8').replace('{ say: "PLACEHOLDER" }', line));
      for (const cmd of ['validate', 'render']) {
        const extra = cmd === 'render' ? ['--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir] : [];
        const cli = await runCli([cmd, p.manifest, ...extra], fakeEnv(f));
        expect(cli.code, `${cmd}: ${cli.stderr}`).toBe(2);
        expect(cli.stderr).toMatch(/script\.yaml:\d+:\d+/);
        expect(cli.stderr).toContain('ep1/talk');
        expect(cli.stderr).toMatch(mention);
      }
      expect(f.requests).toHaveLength(0);
    });
  }
});
