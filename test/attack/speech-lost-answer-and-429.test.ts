/**
 * Attack (issue 14): faults on the speech endpoint. A submit whose answer is
 * lost after the task was created may have been billed: its line is held,
 * counted as spent, and never sent again (not by this run, not by the
 * next). A 429 storm proves no task was created each time: every line is
 * voiced once, the episode finishes, and what is recorded is what was charged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { startFake } from '../helpers/engine.ts';
import { events, fakeEnv, scriptProject } from '../helpers/script-project.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const render = (p: ReturnType<typeof scriptProject>, f: FakeWavespeed, extra: string[] = []) =>
  runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--json', '--no-report', '--concurrency', '1', ...extra], fakeEnv(f));

const summaryOf = (stdout: string) => events(stdout).find((e) => e.type === 'summary') as { cost_usd: number; rendered: number; skipped: number };

describe('attack: faults on the speech endpoint', () => {
  it('a lost answer: the line is held and never resent, by this run or the next', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.script('speech', { kind: 'lost-answer' });
    const p = scriptProject([['Hello there.', 'Hi.'], ['Second episode.', 'Indeed.']]);
    const first = await render(p, f, ['--budget', '2']);
    expect(first.code).toBe(1);
    const texts = () => f.speechSubmissions.map((s) => s.body.text);
    expect(texts()).toHaveLength(4);
    expect(new Set(texts()).size).toBe(4);
    // The held line's scene is not rendered; the other episode is.
    expect(f.submissions).toHaveLength(1);
    // Counted as spent: the lost speech may be billed (it is: the fake made it).
    expect(summaryOf(first.stdout).cost_usd).toBeGreaterThanOrEqual(f.chargedUsd - 1e-9);
    const second = await render(p, f, ['--budget', '2']);
    expect(second.code).toBe(1);
    expect(texts()).toHaveLength(4);
    expect(f.submissions).toHaveLength(1);
    expect(second.stderr).toMatch(/may have been billed/);
  });

  it('a 429 storm: every line voiced once, the episode complete, spent = charged', { timeout: 60_000 }, async () => {
    const f = await startFake({ seed: 3 });
    fakes.push(f);
    f.rates('speech', [{ fault: { kind: 'status', status: 429, retryAfter: '0' }, rate: 0.6 }]);
    const p = scriptProject([['One line here.', 'Two lines here.', 'Three lines.', 'Four lines.']]);
    const cli = await render(p, f, ['--budget', '1', '--concurrency', '3']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(f.injected.get('speech') ?? 0).toBeGreaterThan(0);
    expect(f.speechSubmissions).toHaveLength(4);
    expect(new Set(f.speechSubmissions.map((s) => s.body.text)).size).toBe(4);
    expect(f.submissions).toHaveLength(1);
    expect(summaryOf(cli.stdout).cost_usd).toBeCloseTo(f.chargedUsd, 4);
  });
});

describe('attack: the way out that status names for a held line', () => {
  it('`render --retry-ambiguous` (what `duologue status` advises) voices a held line again', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    f.script('speech', { kind: 'lost-answer' });
    const p = scriptProject();
    expect((await render(p, f)).code).toBe(1);
    const status = await runCli(['status', '--cache-dir', p.cacheDir], fakeEnv(f));
    expect(status.stdout).toContain('--retry-ambiguous');
    const again = await render(p, f, ['--retry-ambiguous']);
    expect(again.code, again.stderr).toBe(0);
    // The user chose to pay again for the one line whose answer was lost; nothing else is resent.
    expect(f.speechSubmissions).toHaveLength(3);
    expect(f.submissions).toHaveLength(1);
  });
});
