/**
 * An API that echoes the Authorization header it got in an error body: the
 * whole CLI run keeps the key out of everything it writes (stdout's NDJSON,
 * stderr, the run report, the cache database), showing `[redacted]` instead.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** Files under `dir` whose bytes contain the key. */
function filesWithKey(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((p) => statSync(p).isFile() && readFileSync(p).includes(KEY));
}

describe('an API that echoes the key', () => {
  it('a submit refused with the key in its body: the scene fails saying [redacted]; the key is in no output, report or database', async () => {
    const fake = await startFake();
    fakes.push(fake);
    const { dir, manifest } = tinyProject(`version: 1\ndefaults: { image: two-people.png }\nepisodes:\n  - id: ep1\n    scenes:\n      - { id: a, left: tone-1s.wav, seed: 1 }\n`);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-echo-cache-'));
    const outDir = mkdtempSync(path.join(tmpdir(), 'dl-echo-out-'));
    // Both tries: the first refusal makes the client upload the inputs again and submit once more.
    fake.script('submit', { kind: 'echo-key', status: 400 }, { kind: 'echo-key', status: 400 });
    const run = await runCli(['render', manifest, '--cache-dir', cacheDir, '--out', outDir, '--json'], { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: fake.apiUrl, DUOLOGUE_DEBUG: '1', DUOLOGUE_TIME_SCALE: '0.001' });
    expect(run.code, run.stderr).toBe(1);
    expect(fake.submissions).toHaveLength(0);
    const failed = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; error?: string }).find((e) => e.type === 'failed');
    expect(failed?.error).toMatch(/400: .*\(sent with authorization: Bearer \[redacted\]\)/);
    expect(run.stderr).toContain('Bearer [redacted]');
    expect(run.stdout).not.toContain(KEY);
    expect(run.stderr).not.toContain(KEY);
    // The report is written and names the failure; the database recorded it: neither has the key.
    expect(readdirSync(outDir, { recursive: true })).toContain('report.json');
    expect(readFileSync(path.join(outDir, 'report.json'), 'utf8')).toContain('[redacted]');
    expect(readdirSync(cacheDir)).toContain('duologue.db');
    expect([...filesWithKey(cacheDir), ...filesWithKey(outDir), ...filesWithKey(dir)]).toEqual([]);
  });
});
