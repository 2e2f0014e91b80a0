import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Diagnostic } from '../errors.ts';
import { positionOf, type DataPath, type ManifestSource } from './source.ts';
import { pointerToPath, whereOf } from './where.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('../../schemas/manifest.schema.json', import.meta.url));

/**
 * Keywords only editors read (yaml-language-server / VS Code): messages,
 * per-value docs, completion hints. Declared so strict ajv still refuses a
 * misspelt keyword instead of ignoring it.
 */
export const EDITOR_KEYWORDS = [
  'errorMessage',
  'patternErrorMessage',
  'markdownDescription',
  'markdownEnumDescriptions',
  'defaultSnippets',
  'doNotSuggest',
] as const;

/**
 * Schema parts that exist for the editor only: they restate rules that
 * normalize checks with the CLI's own words and positions (line numbers, "got
 * both"), so their ajv errors ("must match a schema in anyOf") are dropped.
 */
const EDITOR_ONLY_DEFS = ['#/$defs/sceneForm/', '#/$defs/lineForm/'];

let compiled: ValidateFunction | undefined;

/** Compiled once per process: the schema is static data. */
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    ajv.addVocabulary([...EDITOR_KEYWORDS]);
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
  }
  return compiled;
}

/** Checks the data against schemas/manifest.schema.json; every error positioned. */
export function checkSchema(source: ManifestSource, data: unknown): Diagnostic[] {
  const validate = validator();
  if (validate(data)) return [];
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  const errors = (validate.errors ?? []).filter((e) => !EDITOR_ONLY_DEFS.some((d) => e.schemaPath.startsWith(d)));
  for (const e of collapse(errors)) {
    const d = toDiagnostic(source, data, e);
    const key = `${d.line}:${d.col}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

/**
 * ajv reports every branch of a `oneOf` (seed: integer | -1 | "random") as
 * its own error; users want one sentence per bad value.
 */
function collapse(errors: ErrorObject[]): ErrorObject[] {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  // An audio value is a path or a `say` mapping (if/then/else): the branch's own errors say what is wrong, "must match else" adds nothing.
  return errors.filter((e) => e.keyword !== 'if' && (e.keyword === 'oneOf' || !oneOfPaths.has(e.instancePath)));
}

function toDiagnostic(source: ManifestSource, data: unknown, e: ErrorObject): Diagnostic {
  const path = pointerToPath(e.instancePath);
  const field = describeField(path);
  let message: string;
  let at: DataPath = path;
  let atKey = false;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      at = [...path, key];
      atKey = true;
      const allowed = allowedKeys(e);
      message = `unknown key "${key}"${field ? ` in ${field}` : ''}${allowed ? ` (allowed: ${allowed})` : ''}`;
      break;
    }
    case 'required':
      message = `${field || 'manifest'} is missing "${e.params.missingProperty}"`;
      break;
    case 'enum':
      message = `${field} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${show(valueAt(data, path))}`;
      break;
    case 'const':
      message = `${field} must be ${JSON.stringify(e.params.allowedValue)}, got ${show(valueAt(data, path))}`;
      break;
    case 'oneOf':
      message = field.endsWith('seed')
        ? `${field} must be an integer from 0 to 2147483647, or "random", got ${show(valueAt(data, path))}`
        : `${field} has an invalid value ${show(valueAt(data, path))}`;
      break;
    case 'pattern':
      message = /(^|\.)voice$/.test(field)
        ? `${field} ${show(valueAt(data, path))} is not a voice id: a system voice (Wise_Woman, Deep_Voice_Man...) or a cloned voice id, letters, digits, "_" or "-", starting with a letter`
        : `${field} ${show(valueAt(data, path))} must be lower-case letters, digits, "-" or "_", starting with a letter or digit`;
      break;
    case 'type':
      message = `${field} must be ${article(String(e.params.type))}, got ${show(valueAt(data, path))}`;
      break;
    case 'maxLength':
      message = `${field} must be at most ${e.params.limit} characters, got ${String(valueAt(data, path)).length}`;
      break;
    case 'minItems':
      message = `${field} must have at least ${e.params.limit} item${e.params.limit === 1 ? '' : 's'}`;
      break;
    case 'minimum':
    case 'maximum':
      message = `${field} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${e.params.limit}, got ${show(valueAt(data, path))}`;
      break;
    default:
      message = `${field} ${e.message ?? 'is invalid'}, got ${show(valueAt(data, path))}`;
  }
  const { line, col } = positionOf(source, at, atKey ? 'key' : 'value');
  return { severity: 'error', code: 'E_MANIFEST', file: source.file, line, col, where: whereOf(data, path), message };
}

function allowedKeys(e: ErrorObject): string | undefined {
  const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props).join(', ') : undefined;
}

/** `episodes[0].scenes[2].seed` reads worse than `seed`; the where-prefix already names the scene. */
function describeField(path: DataPath): string {
  const names = path.filter((p) => typeof p === 'string');
  const last = names[names.length - 1];
  const lastIndex = path[path.length - 1];
  if (typeof lastIndex === 'number') {
    const kind = last === 'episodes' ? 'episode' : last === 'scenes' ? 'scene' : last === 'lines' ? 'line' : `${last} item`;
    return `${kind} ${lastIndex + 1}`;
  }
  if (path[path.length - 2] !== undefined && typeof path[path.length - 2] === 'number' && path[path.length - 3] === 'lines') {
    return `line ${(path[path.length - 2] as number) + 1} ${String(last)}`;
  }
  if (path.length >= 2 && path[path.length - 2] === 'defaults') return `defaults.${String(last)}`;
  return last === undefined ? '' : String(last);
}

function valueAt(data: unknown, path: DataPath): unknown {
  let v: unknown = data;
  for (const p of path) v = (v as Record<string | number, unknown> | undefined)?.[p];
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (empty)';
  const s = JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  if (t === 'object') return 'a mapping';
  if (t === 'array') return 'a list';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
