/**
 * `render --out`: a value that is neither a folder nor a usable
 * s3://bucket/prefix is a usage error (exit 2) before anything is opened or
 * paid, and the message never repeats what the URL carried.
 */
import { existsSync, mkdtempSync } from 'node:fs';
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

describe('render --out', () => {
  it.each([
    ['another scheme, with a password', 'ftp://user:hunter2-secret@files.example/episodes', /a ftp:\/\/ URL/],
    ['a bucket name S3 refuses', 's3://No_Such!Bucket-hunter2-secret/x', /s3:\/\/bucket or s3:\/\/bucket\/prefix/],
    ['a prefix with a .. step', 's3://studio-episodes/nightly/../hunter2-secret', /plain prefix/],
    ['an empty value', ' ', /empty value/],
  ])('%s: E_USAGE (exit 2) before any work, the value not repeated', async (_what, out, message) => {
    const f = await startFake();
    fakes.push(f);
    const { manifest } = tinyProject();
    const cache = path.join(mkdtempSync(path.join(tmpdir(), 'dl-out-usage-')), 'cache');
    const run = await runCli(['render', manifest, '--provider', 'wavespeed', '--cache-dir', cache, '--out', out], { WAVESPEED_API_KEY: KEY, WAVESPEED_BASE_URL: f.apiUrl });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('--out');
    expect(run.stderr).not.toContain('hunter2-secret');
    // Nothing opened, nothing asked of the provider.
    expect(existsSync(cache)).toBe(false);
    expect(f.submissions).toHaveLength(0);
  });
});
