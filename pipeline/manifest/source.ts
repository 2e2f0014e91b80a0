import { LineCounter, isMap, isSeq, isScalar, isPair, type Document, type Node } from 'yaml';
import type { Position } from '../types.ts';

/**
 * A parsed manifest that still knows where every value came from, so later
 * steps can say `file:LINE:COL` for any path into the data.
 */
export interface ManifestSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export type DataPath = ReadonlyArray<string | number>;

/**
 * Position of the value at `path`, or of its key when `at: 'key'` (an unknown
 * key is best pointed at by its name). Falls back to the nearest ancestor that
 * exists, so a missing property points at the object that lacks it.
 */
export function positionOf(src: ManifestSource, path: DataPath, at: 'value' | 'key' = 'value'): Position {
  let node: unknown = src.doc.contents;
  let best = offsetOf(node) ?? 0;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (last && at === 'key') {
        best = offsetOf(pair.key) ?? best;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    best = offsetOf(node) ?? best;
  }
  const { line, col } = src.lines.linePos(best);
  return { line, col };
}

function offsetOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
