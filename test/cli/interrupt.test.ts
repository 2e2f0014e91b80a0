/** The real bin, a real SIGINT: stop submitting, record what is in flight, exit 130; the next run finishes. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneSecondSeries } from '../helpers/canned.ts';
import { tinyProject } from '../helpers/tasks.ts';

const bin = path.join(import.meta.dirname, '../../bin/duologue.js');

function runBin(args: string[], onStderr?: (text: string, kill: () => void) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('Ctrl-C', () => {
  it('SIGINT exits 130 with work recorded; the next run completes it', async () => {
    const { manifest } = tinyProject(oneSecondSeries(12));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sigint-'));
    const args = ['render', manifest, '--provider', 'local', '--cache-dir', cacheDir, '--out', path.join(cacheDir, 'out'), '--concurrency', '1', '--no-report'];
    let sent = false;
    const first = await runBin(args, (text, kill) => {
      if (!sent && /^done /m.test(text)) {
        sent = true;
        kill();
      }
    });
    expect(first.code).toBe(130);
    expect(first.stderr).toContain('interrupting');
    expect(first.stderr).toMatch(/^interrupted: /m);
    const second = await runBin(args);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/^\d+ rendered, [1-9]\d* cached, 0 failed, 0 skipped/m);
  });
});
