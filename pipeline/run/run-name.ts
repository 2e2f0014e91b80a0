import { DuologueError } from '../errors.ts';

/** Long enough for `nightly-2026-11-29-episodes-1-40`, short enough to print in one status line. */
export const RUN_NAME_MAX = 64;
/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit (never a flag, a path or a shell word that needs quoting). */
const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The name under which workers join one run (`--run NAME` or `DUOLOGUE_RUN`):
 * every worker started with it shares one cap, one ledger entry, one report.
 * `where` says which of the two it came from, for the message.
 */
export function parseRunName(raw: string, where = '--run'): string {
  const name = raw.trim();
  if (name === '') throw new DuologueError('E_USAGE', `${where}: the run name is empty; give one like "night" or "nightly-2026-11-29"`);
  if (name.length > RUN_NAME_MAX) throw new DuologueError('E_USAGE', `${where}: the run name is ${name.length} characters long; at most ${RUN_NAME_MAX} are allowed`);
  if (!RUN_NAME.test(name)) {
    const bad = [...name].find((c) => !/[A-Za-z0-9._-]/.test(c));
    const why = bad !== undefined ? `it contains ${JSON.stringify(bad)}` : 'it must start with a letter or digit';
    throw new DuologueError('E_USAGE', `${where}: the run name ${JSON.stringify(name)} is not allowed (${why}); use letters, digits, ".", "_" and "-", starting with a letter or digit`);
  }
  return name;
}
