import { SILENCE } from '../defaults.ts';
import type { SceneSpec } from '../types.ts';

/** `trim:` as written (schema-checked) → the scene's trim, or nothing when it is off. */
export function trimOf(raw: 'edges' | 'none' | { edges: boolean; margin?: number } | undefined): Pick<SceneSpec, 'trim'> {
  if (raw === undefined || raw === 'none') return {};
  if (raw === 'edges') return { trim: { marginMs: Math.round(SILENCE.trimMarginSeconds * 1000) } };
  if (!raw.edges) return {};
  return { trim: { marginMs: Math.round((raw.margin ?? SILENCE.trimMarginSeconds) * 1000) } };
}
