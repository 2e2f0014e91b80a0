/**
 * Imports point down (issue 12, item 5): the tree reads as the pipeline, each
 * folder built only on those below it, so a folder can be understood (and
 * changed) without the ones above. A new folder must be given its place here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const pipeline = path.join(import.meta.dirname, '../../pipeline');

/** Lowest first. Root files are the bottom (shared by all) or the top (the entry points). */
const LAYERS = ['(bottom)', 'cost', 'media', 'speech', 'manifest', 'import', 'plan', 'cache', 'providers', 'schedule', 'stitch', 'report', 'run', 'commands', '(top)'];
const BOTTOM = ['types.ts', 'errors.ts', 'defaults.ts', 'events.ts', 'sleep.ts', 'version.ts', 'temp-tag.ts'];
const TOP = ['cli.ts', 'index.ts'];

/** The layer of a file under `pipeline/` (path relative to it). */
function layerOf(file: string): string {
  const [first, ...rest] = file.split(path.sep);
  if (rest.length > 0) return first!;
  if (BOTTOM.includes(first!)) return '(bottom)';
  if (TOP.includes(first!)) return '(top)';
  return `(unplaced root file ${first})`;
}

interface Edge {
  from: string;
  to: string;
}

/** Every relative import (static, `import type`, dynamic) between files under `pipeline/`. */
function imports(read: (file: string) => string, files: readonly string[]): Edge[] {
  const edges: Edge[] = [];
  const spec = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const from of files) {
    for (const m of read(from).matchAll(spec)) {
      edges.push({ from, to: path.normalize(path.join(path.dirname(from), m[1]!)) });
    }
  }
  return edges;
}

/** `from -> to` for each import that points up or sideways into an unplaced folder. */
function upward(edges: readonly Edge[]): string[] {
  const rank = (layer: string) => LAYERS.indexOf(layer);
  const found: string[] = [];
  for (const { from, to } of edges) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (rank(a) < 0) found.push(`${from}: ${a} has no place in the layers`);
    else if (rank(b) < 0) found.push(`${from} -> ${to}: ${b} has no place in the layers`);
    else if (a !== b && rank(b) > rank(a)) found.push(`${from} -> ${to}: ${a} imports ${b}, which is above it`);
  }
  return [...new Set(found)];
}

const sourceFiles = () =>
  readdirSync(pipeline, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[cm]?ts$/.test(f))
    .sort();

describe('the layers of pipeline/', () => {
  it('reads the imports of every folder (not a vacuous pass)', () => {
    const files = sourceFiles();
    const edges = imports((f) => readFileSync(path.join(pipeline, f), 'utf8'), files);
    const layers = new Set(files.map(layerOf));
    for (const layer of LAYERS) expect(layers, layer).toContain(layer);
    expect(edges.length).toBeGreaterThan(200);
    expect(edges.some((e) => e.from === path.join('run', 'render.ts') && e.to === path.join('schedule', 'index.ts'))).toBe(true);
  });

  it('has no import that points up', () => {
    expect(upward(imports((f) => readFileSync(path.join(pipeline, f), 'utf8'), sourceFiles()))).toEqual([]);
  });

  it('catches an upward import, a type-only one, a dynamic one and an unplaced folder', () => {
    const files: Record<string, string> = {
      [path.join('media', 'a.ts')]: "import type { X } from '../manifest/types.ts';\n",
      [path.join('cost', 'b.ts')]: "const m = await import('../plan/index.ts');\n",
      [path.join('plan', 'c.ts')]: "import { y } from '../cost/b.ts';\n",
      [path.join('extras', 'd.ts')]: "import { z } from '../errors.ts';\n",
    };
    const found = upward(imports((f) => files[f]!, Object.keys(files)));
    expect(found).toEqual([
      `${path.join('media', 'a.ts')} -> ${path.join('manifest', 'types.ts')}: media imports manifest, which is above it`,
      `${path.join('cost', 'b.ts')} -> ${path.join('plan', 'index.ts')}: cost imports plan, which is above it`,
      `${path.join('extras', 'd.ts')}: extras has no place in the layers`,
    ]);
  });
});
