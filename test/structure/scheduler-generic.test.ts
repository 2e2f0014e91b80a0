/**
 * The scheduler is generic (issue 12, item 4): it asks a provider's
 * `info.capabilities` and takes its name for messages from `info.label`,
 * never which provider it has. A provider id, the WaveSpeed name or an import
 * of one provider's code in `schedule/` is a join leaking.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const pipeline = path.join(import.meta.dirname, '../../pipeline');

/** Every source file under `pipeline/schedule/`, relative to `pipeline/`. */
function schedulerFiles(): string[] {
  const under = readdirSync(path.join(pipeline, 'schedule'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[cm]?ts$/.test(f))
    .map((f) => path.join('schedule', f));
  return under.sort();
}

const RULES: { what: string; pattern: RegExp }[] = [
  { what: 'a provider id as a string literal', pattern: /(['"`])(local|wavespeed)\1/ },
  // Comments too: the scheduler has no business naming a provider anywhere.
  { what: 'the WaveSpeed name', pattern: /wave\s*speed/i },
  { what: "an import of one provider's code", pattern: /(from\s+|import\s*\(\s*)['"][^'"]*providers\/(wavespeed|local)\// },
];

/** Every `file:line: what` that breaks a rule. */
function leaks(files: readonly string[], read: (file: string) => string): string[] {
  const found: string[] = [];
  for (const file of files) {
    const lines = read(file).split('\n');
    for (const [i, line] of lines.entries()) {
      for (const rule of RULES) if (rule.pattern.test(line)) found.push(`${file}:${i + 1}: ${rule.what}: ${line.trim()}`);
    }
  }
  return found;
}

describe('the scheduler knows no provider', () => {
  it('reads the scheduler files (not a vacuous pass)', () => {
    const files = schedulerFiles();
    expect(files).toContain(path.join('schedule', 'index.ts'));
    expect(files).toContain(path.join('schedule', 'job.ts'));
    expect(files).toContain(path.join('schedule', 'lost-answer.ts'));
  });

  it('has no provider id, provider name or provider import in schedule/', () => {
    expect(leaks(schedulerFiles(), (f) => readFileSync(path.join(pipeline, f), 'utf8'))).toEqual([]);
  });

  it('catches each kind of leak', () => {
    const samples: Record<string, string> = {
      'id.ts': "if (provider.info.id === 'local') redo();",
      'id-dq.ts': 'const p = "wavespeed";',
      'name.ts': '// Check the WaveSpeed dashboard',
      'import.ts': "import { send } from '../providers/wavespeed/http.ts';",
      'import-local.ts': "import { localRenderArgs } from '../providers/local/args.ts';",
      'clean.ts': "// a local render costs nothing\nconst caps = provider.info.capabilities;\nimport type { Provider } from '../providers/types.ts';",
    };
    const found = leaks(Object.keys(samples), (f) => samples[f]);
    expect([...new Set(found.map((l) => l.split(':')[0]))].sort()).toEqual(['id-dq.ts', 'id.ts', 'import-local.ts', 'import.ts', 'name.ts']);
  });
});
