/**
 * A test file leaves nothing in the system temp dir: its helpers' folders,
 * its fake server's scratch and its own mkdtemp folders are all removed when
 * it ends. Checked by running one file in a child vitest and looking after.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFake } from './engine.ts';
import { tinyProject } from './tasks.ts';

const root = path.join(import.meta.dirname, '../..');
const probe = process.env.DUOLOGUE_TMP_PROBE;

// Each run registers only its own test (not a skip of the other): a skip in every CI run would make real skips easy to miss.
describe('temp folders', () => {
  if (probe) it('inner run: makes temp folders the way tests do', async () => {
    const { dir } = tinyProject();
    const own = mkdtempSync(path.join(tmpdir(), 'dl-probe-'));
    const fake = await startFake();
    const fakeDir = path.join(tmpdir(), readdirSync(tmpdir()).find((f) => f.startsWith('dl-eng-fake-'))!);
    await fake.stop();
    writeFileSync(probe!, JSON.stringify({ dirs: [dir, own], fakeDir, fakeDirAfterStop: existsSync(fakeDir) }));
  });

  if (!probe) it('a finished test file has removed every folder it made, and a stopped fake its scratch', () => {
    const probeFile = path.join(mkdtempSync(path.join(tmpdir(), 'dl-probe-out-')), 'probe.json');
    execFileSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/helpers/tmp-root.test.ts'], {
      cwd: root,
      env: { ...process.env, DUOLOGUE_TMP_PROBE: probeFile },
      stdio: 'ignore',
    });
    const seen = JSON.parse(readFileSync(probeFile, 'utf8')) as { dirs: string[]; fakeDir: string; fakeDirAfterStop: boolean };
    expect(seen.dirs).toHaveLength(2);
    expect(seen.fakeDirAfterStop).toBe(false);
    for (const dir of [...seen.dirs, seen.fakeDir]) expect(existsSync(dir), dir).toBe(false);
  });
});
