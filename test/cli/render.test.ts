import { mkdtempSync, statSync } from 'node:fs';
import { ffprobe, resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tinyProject } from '../helpers/tasks.ts';

describe('duologue render (local provider, CLI)', () => {
  it('renders, prints NDJSON ending in the summary, then costs nothing the second time; status and cache see it', async () => {
    const { manifest } = tinyProject();
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-cli-render-'));
    const first = await runCli(['render', manifest, '--cache-dir', cacheDir, '--json', '--out', path.join(cacheDir, 'out')]);
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ type: 'summary', rendered: 3, cached: 0, failed: 0, skipped: 0, cost_usd: 0 });
    expect(summary.episodes).toEqual([{ id: 'ep1', status: 'complete', output: expect.stringMatching(/ep1\.mp4$/) }]);
    expect(first.stderr).toMatch(/^provider: local$/m);
    expect(first.stderr).not.toMatch(/\x1b\[/); // plain lines, no control characters

    const episode = await ffprobe(summary.episodes[0].output, resolveFfmpegPaths());
    // The sum of the scene clips, within one frame (40 ms) per scene.
    expect(Math.abs(Number(episode.format.duration) - (3.5 + 2.5 + 2.5))).toBeLessThanOrEqual(3 * 0.04 + 1e-9);
    const mtime = statSync(summary.episodes[0].output).mtimeMs;

    const second = await runCli(['render', manifest, '--cache-dir', cacheDir, '--json', '--out', path.join(cacheDir, 'out')]);
    expect(JSON.parse(second.stdout.trim().split('\n').at(-1)!)).toMatchObject({ rendered: 0, cached: 3 });
    expect(second.stderr).toContain('(up to date, not rewritten)');
    expect(statSync(summary.episodes[0].output).mtimeMs).toBe(mtime);

    const status = await runCli(['status', '--cache-dir', cacheDir]);
    expect(status.stdout).toMatch(/#2 .* local +complete/);
    const stats = await runCli(['cache', 'stats', '--cache-dir', cacheDir]);
    expect(stats.stdout).toMatch(/complete +3/);
    expect((await runCli(['cache', 'verify', '--cache-dir', cacheDir])).stdout).toMatch(/verified 3 clips: 3 ok, 0 damaged/);
    const gcDry = await runCli(['cache', 'gc', '--older-than', '0s', '--dry-run', '--cache-dir', cacheDir]);
    expect(gcDry.stdout).toMatch(/would remove 3 clips/);
    const gcKeep = await runCli(['cache', 'gc', manifest, '--cache-dir', cacheDir]);
    expect(gcKeep.stdout).toMatch(/removed 0 clips .*; kept 3/);
  });

  it('--episode limits the run; an unknown episode is a usage error', async () => {
    const { manifest } = tinyProject();
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-cli-ep-'));
    const bad = await runCli(['render', manifest, '--cache-dir', cacheDir, '--episode', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--episode nope: no such episode (known: ep1)');
    expect((await runCli(['render', manifest, '--cache-dir', cacheDir, '--concurrency', '0'])).stderr).toContain('Expected `--concurrency` to be a whole number from 1 to 10000, got `0`');
    const tier = await runCli(['render', manifest, '--cache-dir', cacheDir, '--tier', 'platinum']);
    expect(tier.code).toBe(2);
    expect(tier.stderr).toContain('Expected `--tier` (or WAVESPEED_TIER) to be one of auto, bronze, silver, gold, ultra, got `platinum`');
  });
});
