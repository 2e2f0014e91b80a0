import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseAllDocuments, isMap } from 'yaml';
import { LIMITS } from '../defaults.ts';
import type { Diagnostic } from '../errors.ts';
import type { ManifestSource } from './source.ts';

export type ParseResult = { ok: true; source: ManifestSource; data: unknown } | { ok: false; diagnostics: Diagnostic[] };

const error = (file: string, message: string, line?: number, col?: number): Diagnostic => ({
  severity: 'error',
  code: 'E_MANIFEST',
  file,
  line,
  col,
  message,
});

/**
 * Reads and parses one manifest. Refuses, with a positioned message and never
 * a stack trace: missing/oversized/binary files, YAML syntax errors
 * (tabs, duplicate keys...), several documents, alias bombs, a top level that
 * is not a mapping.
 */
export async function parseManifestFile(file: string): Promise<ParseResult> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, diagnostics: [error(file, 'not a file')] };
    size = info.size;
  } catch (cause) {
    return { ok: false, diagnostics: [error(file, `manifest ${describeFsError(cause)}`)] };
  }
  if (size > LIMITS.maxManifestBytes) {
    return {
      ok: false,
      diagnostics: [error(file, `manifest is ${formatBytes(size)}; the limit is ${formatBytes(LIMITS.maxManifestBytes)} (is this the right file?)`)],
    };
  }
  const bytes = await readFile(file);
  return parseManifestText(file, bytes);
}

export function parseManifestText(file: string, bytes: Buffer): ParseResult {
  const nul = bytes.indexOf(0);
  if (nul !== -1) return { ok: false, diagnostics: [error(file, `binary data at byte ${nul}: a manifest is UTF-8 YAML text`)] };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, diagnostics: [error(file, 'not valid UTF-8 text: a manifest is UTF-8 YAML')] };
  }
  if (text.trim() === '') return { ok: false, diagnostics: [error(file, 'manifest is empty')] };

  const lines = new LineCounter();
  const options = { uniqueKeys: true, prettyErrors: false, strict: true } as const;
  let docs;
  try {
    docs = parseAllDocuments(text, { ...options, lineCounter: lines });
  } catch (cause) {
    // Pathological nesting can exhaust the parser's stack: refuse, do not crash.
    return { ok: false, diagnostics: [error(file, `cannot parse YAML: ${(cause as Error).message}`, 1, 1)] };
  }
  if (docs.length === 0) return { ok: false, diagnostics: [error(file, 'manifest has no YAML content')] };
  if (docs.length > 1) {
    const { line, col } = lines.linePos(docs[1].range[0]);
    return {
      ok: false,
      diagnostics: [error(file, `found ${docs.length} YAML documents ('---'); a manifest is one document`, line, col)],
    };
  }
  const doc = docs[0];
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
      diagnostics: problems.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return error(file, yamlMessage(e.code, e.message, text.slice(e.pos[0]).split('\n')[0]), line, col);
      }),
    };
  }
  if (!isMap(doc.contents)) {
    const { line, col } = lines.linePos(doc.contents?.range?.[0] ?? 0);
    return { ok: false, diagnostics: [error(file, 'the top level must be a mapping (version: 1, episodes: [...])', line, col)] };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: LIMITS.maxYamlAliases });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return {
      ok: false,
      diagnostics: [
        error(
          file,
          /alias/i.test(message)
            ? `too many YAML alias expansions (limit ${LIMITS.maxYamlAliases}): refusing a document that could exhaust memory`
            : `cannot read YAML: ${message}`,
          1,
          1,
        ),
      ],
    };
  }
  return { ok: true, source: { file, doc, lines }, data };
}

/** The yaml library's messages repeat the position and quote context; keep the first sentence. */
function yamlMessage(code: string, message: string, near: string): string {
  const first = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') return `duplicate key "${near.split(':')[0].trim()}"`;
  if (code === 'TAB_AS_INDENT') return 'tab used for indentation; YAML indents with spaces';
  return `YAML syntax: ${first}`;
}

/** What went wrong reading a file, as a phrase to follow its name: `"a.wav" not found`. */
export function describeFsError(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'is not readable (permission denied)';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read: ${(cause as Error)?.message ?? String(cause)}`;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}
