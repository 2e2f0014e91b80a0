import { access, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuologueError } from '../errors.ts';
import { importFountain } from '../import/index.ts';
import type { CommandContext } from './context.ts';

export interface ImportCommandOptions {
  left: string;
  right: string;
  image?: string;
  episode?: string;
  leftVoice?: string;
  rightVoice?: string;
  /** Write the manifest here instead of stdout. */
  output?: string;
  force?: boolean;
}

/** `duologue import SCRIPT --left NAME --right NAME`: the manifest on stdout (or --output), what was left out on stderr. */
export async function importCommand(file: string, options: ImportCommandOptions, ctx: CommandContext): Promise<number> {
  const output = options.output ? path.resolve(ctx.cwd, options.output) : undefined;
  // The manifest names its media relative to its own folder, as every manifest does.
  const base = output ? path.dirname(output) : ctx.cwd;
  const image = options.image ? path.relative(base, path.resolve(ctx.cwd, options.image)).split(path.sep).join('/') : undefined;
  if (output && !options.force && (await exists(output))) {
    throw new DuologueError('E_USAGE', `${options.output} already exists (--force to replace it)`);
  }
  const result = await importFountain(path.resolve(ctx.cwd, file), {
    left: options.left,
    right: options.right,
    image,
    episodeId: options.episode,
    leftVoice: options.leftVoice,
    rightVoice: options.rightVoice,
  });
  for (const note of result.notes) ctx.stderr.write(`note: ${note}\n`);
  if (output) {
    // Whole or not at all: a manifest cut short by a full disk would still parse, wrongly.
    const temp = `${output}.${process.pid}.tmp`;
    await writeFile(temp, result.yaml);
    await rename(temp, output);
    ctx.stderr.write(`${options.output}: ${result.scenes} scene${result.scenes === 1 ? '' : 's'}, ${result.lines} line${result.lines === 1 ? '' : 's'}\n`);
  } else {
    ctx.stdout.write(result.yaml);
  }
  return 0;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
