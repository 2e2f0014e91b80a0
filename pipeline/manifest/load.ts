import path from 'node:path';
import { ManifestErrors, type Diagnostic } from '../errors.ts';
import { parseManifestFile } from './parse.ts';
import { checkSchema } from './schema.ts';
import { normalizeManifest, type RawManifest } from './normalize.ts';
import type { EpisodeSpec, Series } from '../types.ts';

export interface LoadResult {
  series: Series;
  /** Errors and warnings of every manifest, in file order. */
  diagnostics: Diagnostic[];
}

/**
 * read → schema → normalize → cross-manifest rules, for all files at once.
 * Never throws for a bad manifest: every problem becomes a diagnostic so the
 * user sees them all in one go.
 */
export async function readManifests(files: readonly string[]): Promise<LoadResult> {
  const diagnostics: Diagnostic[] = [];
  const series: Series = { manifests: [], episodes: [] };
  const seenFiles = new Set<string>();
  for (const file of files) {
    const abs = path.resolve(file);
    if (seenFiles.has(abs)) continue; // the same manifest twice (shell globs) is one manifest
    seenFiles.add(abs);
    const parsed = await parseManifestFile(file);
    if (!parsed.ok) {
      diagnostics.push(...parsed.diagnostics);
      continue;
    }
    const schemaErrors = checkSchema(parsed.source, parsed.data);
    if (schemaErrors.length > 0) {
      diagnostics.push(...schemaErrors);
      continue;
    }
    const { info, episodes } = normalizeManifest(parsed.source, parsed.data as RawManifest, diagnostics);
    series.manifests.push(info);
    series.episodes.push(...episodes);
  }
  diagnostics.push(...crossChecks(series.episodes));
  return { series, diagnostics };
}

/** Throws ManifestErrors (all of them) if any error was found. */
export async function loadManifests(files: readonly string[]): Promise<LoadResult> {
  const result = await readManifests(files);
  if (result.diagnostics.some((d) => d.severity === 'error')) throw new ManifestErrors(result.diagnostics);
  return result;
}

/** Ids unique across manifests. Outputs (clashes included) are checked by checkOutputs, which knows --out and the cache. */
function crossChecks(episodes: EpisodeSpec[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ids = new Map<string, EpisodeSpec>();
  for (const ep of episodes) {
    const other = ids.get(ep.id);
    if (other) {
      out.push({
        severity: 'error',
        code: 'E_MANIFEST',
        file: ep.file,
        ...ep.pos,
        where: ep.id,
        message: `episode id "${ep.id}" is already used at ${other.file}:${other.pos.line}; episode ids are unique across all manifests of a run`,
      });
    } else {
      ids.set(ep.id, ep);
    }
  }
  return out;
}
