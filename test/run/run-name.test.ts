import { describe, expect, it } from 'vitest';
import { DuologueError } from '../../pipeline/errors.ts';
import { parseRunName, RUN_NAME_MAX } from '../../pipeline/run/run-name.ts';

const usage = (fn: () => unknown): DuologueError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DuologueError);
    expect((e as DuologueError).code).toBe('E_USAGE');
    return e as DuologueError;
  }
  throw new Error('expected E_USAGE');
};

describe('parseRunName', () => {
  it('accepts letters, digits, dot, underscore and dash, trimmed', () => {
    expect(parseRunName('night')).toBe('night');
    expect(parseRunName(' nightly-2026.11_29 ')).toBe('nightly-2026.11_29');
    expect(parseRunName('a'.repeat(RUN_NAME_MAX))).toBe('a'.repeat(RUN_NAME_MAX));
  });

  it('refuses an empty name, saying where it came from', () => {
    expect(usage(() => parseRunName('  ', 'DUOLOGUE_RUN')).message).toMatch(/^DUOLOGUE_RUN: the run name is empty/);
  });

  it('refuses a name that is too long, with its length and the limit', () => {
    expect(usage(() => parseRunName('a'.repeat(RUN_NAME_MAX + 1))).message).toBe(`--run: the run name is ${RUN_NAME_MAX + 1} characters long; at most ${RUN_NAME_MAX} are allowed`);
  });

  it('names the first character it refuses', () => {
    expect(usage(() => parseRunName('night run')).message).toContain('it contains " "');
    expect(usage(() => parseRunName('a/b')).message).toContain('it contains "/"');
    expect(usage(() => parseRunName('nuit-é')).message).toContain('it contains "é"');
  });

  it('refuses a name that starts like a flag or a hidden file', () => {
    expect(usage(() => parseRunName('-night')).message).toContain('must start with a letter or digit');
    expect(usage(() => parseRunName('.night')).message).toContain('must start with a letter or digit');
  });
});
