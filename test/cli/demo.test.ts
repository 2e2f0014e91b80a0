import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { runCli } from '../helpers/cli.ts';

const root = path.join(import.meta.dirname, '../..');
const demo = path.join(root, 'manifests/demo/kitchen-talk.yaml');
const audio = (name: string) => path.join(root, 'manifests/demo/audio', name);
const cacheDir = mkdtempSync(path.join(tmpdir(), 'duologue-demo-'));
const key = { WAVESPEED_API_KEY: 'test-key-not-real' };

/** Duration in whole ms, straight from ffprobe (independent of duologue's own probing). */
function ms(name: string): number {
  const out = execFileSync(resolveFfmpegPaths().ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', audio(name)]);
  return Math.round(Number(out.toString()) * 1000);
}

describe('demo manifest', () => {
  it('validates', async () => {
    const run = await runCli(['validate', demo, '--cache-dir', cacheDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/kitchen-talk\.yaml: valid — "Kitchen Talk", 2 episodes, 4 scenes/);
  });

  it('plan --json totals match a hand computation', async () => {
    // Hand computation from the cost rules: 480p $0.03/s, 720p $0.06/s, ceil, 5 s minimum.
    const coldOpen = (ms('01-ana.wav') + ms('01-ben.wav')) / 1000; // left_right: sum
    const coffee = (ms('02-ana.wav') + 400 + ms('03-ben.wav') + 300 + ms('04-ana.wav')) / 1000; // lines + pauses
    const welcome = ms('05-ben.wav') / 1000; // one voice
    const sourdough = (ms('06-ana.wav') + 250 + ms('07-ben.wav')) / 1000;
    const billed = (s: number) => Math.max(5, Math.ceil(s));
    const expected = {
      'cold-open': billed(coldOpen) * 0.03,
      coffee: billed(coffee) * 0.03,
      welcome: billed(welcome) * 0.06,
      sourdough: billed(sourdough) * 0.06,
    };
    const run = await runCli(['plan', demo, '--json', '--cache-dir', cacheDir], key);
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    const scenes = plan.episodes.flatMap((e: { scenes: unknown[] }) => e.scenes);
    for (const s of scenes) expect(s.estimate_usd).toBeCloseTo(expected[s.id as keyof typeof expected], 10);
    expect(scenes.map((s: { video_seconds: number }) => s.video_seconds)).toEqual([coldOpen, coffee, welcome, sourdough]);
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(plan.totals.cost_usd).toBeCloseTo(total, 10);
    expect(plan.totals.cost_usd).toBeCloseTo(1.05, 10); // and the number the README shows
    expect(plan.provider.id).toBe('wavespeed');
    expect(plan.budgets).toEqual([expect.objectContaining({ limitUsd: 5, reservedUsd: 1.05 })]);
    expect(plan.warnings.map((w: { where: string }) => w.where)).toEqual(['s01e02/welcome', 's01e02/sourdough']);
    expect(scenes.every((s: { key: string; cache: string }) => /^[0-9a-f]{64}$/.test(s.key) && s.cache === 'miss')).toBe(true);
  });

  it('plan --budget skips whole episodes that do not fit and says so', async () => {
    const run = await runCli(['plan', demo, '--budget', '0.50', '--cache-dir', cacheDir], key);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/s01e02 — The Studio .* SKIPPED: over budget: needs \$0\.60, \$0\.05 of \$0\.50 left/);
    expect(run.stdout).toMatch(/--budget: \$0\.50, \$0\.45 reserved — skipped: s01e02/);
  });

  it('plan --explain says why each scene costs what it costs and why an episode is skipped', async () => {
    const run = await runCli(['plan', demo, '--budget', '0.50', '--explain', '--cache-dir', cacheDir], key);
    expect(run.stdout).toContain('why cold-open: miss: never rendered with these inputs (new scene, or its earlier render was not kept); costs $0.21');
    expect(run.stdout).toMatch(/why skipped: over budget: needs \$0\.60, \$0\.05 of \$0\.50 left; episodes are admitted whole, in manifest order/);
    expect(run.stdout).toContain('why welcome: skipped: the episode does not fit the budget');
    const json = JSON.parse((await runCli(['plan', demo, '--explain', '--json', '--cache-dir', cacheDir], key)).stdout);
    expect(json.episodes[0].scenes[0].explain).toMatch(/^miss: never rendered/);
  });

  it('usage errors exit 2 before any work', async () => {
    expect((await runCli(['plan', demo, '--budget', 'lots'])).stderr).toContain('Expected `--budget` to be an amount of USD from 0 up, got `lots`');
    for (const bad of ['0x10', '1e3', '-1', 'Infinity']) expect((await runCli(['plan', demo, '--budget', bad])).code).toBe(2);
    // plan prices from the table and needs no key; render does.
    expect((await runCli(['plan', demo, '--provider', 'wavespeed'])).code).toBe(0);
    const noKey = await runCli(['render', demo, '--provider', 'wavespeed']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--provider wavespeed needs WAVESPEED_API_KEY');
    expect((await runCli(['plan'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('--help and --version exit 0; every subcommand has help', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    for (const cmd of ['validate', 'plan']) {
      const run = await runCli([cmd, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: duologue ${cmd}`);
    }
  });

  it('the bin script runs (tsx, no build step)', () => {
    const out = execFileSync(path.join(root, 'bin/duologue.js'), ['--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: duologue');
  });
});
