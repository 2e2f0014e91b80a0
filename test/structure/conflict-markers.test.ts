/** A merge left half-done must not ship: no conflict markers in the sources or the manuals. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', '.git', 'fixtures']);

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|mts|js|json|md|yaml|yml)$/.test(e.name) || e.name === 'run') yield p;
  }
}

it('no file carries a merge conflict marker', () => {
  const marked: string[] = [];
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8');
    if (/^(<{7} |={7}$|>{7} )/m.test(text)) marked.push(path.relative(root, file));
  }
  expect(marked).toEqual([]);
});
