import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const dir = path.join(import.meta.dirname, '../fixtures/invalid');
const cacheDir = mkdtempSync(path.join(tmpdir(), 'duologue-invalid-'));

/** Each fixture states its expected error on its first line: `# expect: LINE:COL text`. */
function expectation(file: string): { line: number; col: number; text: string } {
  const side = file.replace(/\.yaml$/, '.expect');
  const head = (existsSync(side) ? readFileSync(side, 'utf8') : readFileSync(file, 'utf8')).split('\n')[0];
  const m = /^# expect: (\d+):(\d+) (.+)$/.exec(head);
  if (!m) throw new Error(`${file}: first line must be "# expect: LINE:COL text"`);
  return { line: Number(m[1]), col: Number(m[2]), text: m[3] };
}

const fixtures = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('invalid manifests', () => {
  it('has at least 25 fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  for (const name of fixtures) {
    it(`${name}: exit 2, names file and line`, async () => {
      const file = path.join(dir, name);
      const want = expectation(file);
      const run = await runCli(['validate', file, '--cache-dir', cacheDir]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const errorLines = run.stderr.split('\n').filter((l) => l.startsWith('error: '));
      expect(errorLines.length).toBeGreaterThan(0);
      const position = want.line === 0 ? `${file}:` : `${file}:${want.line}:${want.col}`;
      const match = errorLines.find((l) => (l.includes(`${position} `) || l.includes(`${position}:`)) && l.includes(want.text));
      expect(match, `expected "${position}… ${want.text}" in:\n${run.stderr}`).toBeDefined();
      expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/); // never a stack trace
      expect(run.stderr).toContain('nothing was submitted');
    });
  }
});
