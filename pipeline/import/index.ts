/** `duologue import`: a Fountain screenplay's file → a manifest's text. */
import { readFile } from 'node:fs/promises';
import { DuologueError } from '../errors.ts';
import { readFountain } from './fountain.ts';
import { scriptToManifest, type ImportOptions, type ImportResult } from './to-manifest.ts';

export type { ImportOptions, ImportResult } from './to-manifest.ts';

const ID = /^[a-z0-9][a-z0-9_-]*$/;

export async function importFountain(file: string, options: ImportOptions): Promise<ImportResult> {
  for (const side of ['left', 'right'] as const) {
    if (!options[side]?.trim()) throw new DuologueError('E_USAGE', `import needs --${side} NAME: the character voiced on the ${side}`);
  }
  if (options.left.trim().toUpperCase() === options.right.trim().toUpperCase()) {
    throw new DuologueError('E_USAGE', `--left and --right name the same character (${options.left}): one is voiced on each side`);
  }
  if (options.episodeId !== undefined && (!ID.test(options.episodeId) || options.episodeId.length > 64)) {
    throw new DuologueError('E_USAGE', `--episode ${JSON.stringify(options.episodeId)} is not an id: lower-case letters, digits, '-' and '_', starting with a letter or digit`);
  }
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DuologueError('E_INPUT', `${file}: cannot read the screenplay (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})`);
  }
  const script = readFountain(source);
  if (script.scenes.length === 0) throw new DuologueError('E_INPUT', `${file}: no dialogue found (is it a Fountain screenplay?)`);
  return scriptToManifest(script, options);
}
