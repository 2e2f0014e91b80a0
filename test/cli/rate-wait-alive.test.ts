/**
 * A `duologue render` process whose only pending work is a submit waiting for
 * the rate limit stays alive until the limit lets it through. (`auto` starts
 * at the run's concurrency per minute: with short scenes, every prediction can
 * be done while the next submit still waits. The limiter's timer was then the
 * only thing left, and it was unref'd: Node found an empty event loop and
 * exited 13 mid-run, the remaining scenes never submitted.) Real process, the
 * embedded store, the fake WaveSpeed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { oneSecondSeries } from '../helpers/canned.ts';
import { tinyProject } from '../helpers/tasks.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');
const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

describe('a submit waiting for the rate limit', () => {
  it('keeps the process alive: every scene is rendered, exit 0', { timeout: 60_000 }, async () => {
    const fake = await startFake({ msPerVideoSecond: 20 });
    fakes.push(fake);
    const { manifest } = tinyProject(oneSecondSeries(3, 1));
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-rate-alive-'));
    // --concurrency 2: auto allows 2 starts in its first (scaled) minute; the third waits with nothing else to do.
    const args = ['render', manifest, '--provider', 'wavespeed', '--concurrency', '2', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'out'), '--no-report'];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true', WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_TIME_SCALE: '0.05' } });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toContain('waiting for the rate limit');
    expect(code, stderr).toBe(0);
    expect(fake.submissions).toHaveLength(3);
  });
});
