import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_PATH } from '../../pipeline/manifest/schema.ts';
import { runCli } from '../helpers/cli.ts';
import { YamlLanguageServer, type LspCompletionItem, type LspDiagnostic } from '../helpers/yaml-ls.ts';

/**
 * What a user sees in VS Code: the real yaml-language-server, given
 * schemas/manifest.schema.json, on the demo manifest and on one manifest per
 * rule; the rule manifests are the CLI's own invalid fixtures, so both sides
 * are checked on the same file.
 */
const root = path.join(import.meta.dirname, '../..');
const invalid = path.join(root, 'test/fixtures/invalid');
const cacheDir = mkdtempSync(path.join(tmpdir(), 'duologue-editor-'));

let server: YamlLanguageServer;
let docs = 0;

beforeAll(async () => {
  server = await YamlLanguageServer.start(SCHEMA_PATH);
});
afterAll(async () => {
  await server?.stop();
});

const uriOf = (file: string) => pathToFileURL(file).href;
/** In-memory documents get fresh names so each is opened once. */
const scratch = () => `file:///duologue-editor-test/doc-${docs++}.yaml`;

/** 1-based line, as the CLI prints it. */
const lineOf = (d: LspDiagnostic) => d.range.start.line + 1;

async function diagnoseFile(file: string): Promise<LspDiagnostic[]> {
  return server.diagnose(uriOf(file), readFileSync(file, 'utf8'));
}

/** Completion at the end of `text` (the cursor after its last character). */
async function completeAtEnd(text: string, uri = scratch()): Promise<LspCompletionItem[]> {
  await server.diagnose(uri, text);
  const lines = text.split('\n');
  return server.complete(uri, lines.length - 1, lines[lines.length - 1].length);
}

const labels = (items: LspCompletionItem[]) => items.map((i) => i.label);
const insertOf = (items: LspCompletionItem[], label: string) => {
  const item = items.find((i) => i.label === label);
  return item?.insertText ?? item?.textEdit?.newText;
};
const docOf = (items: LspCompletionItem[], label: string) => {
  const d = items.find((i) => i.label === label)?.documentation;
  return typeof d === 'string' ? d : d?.value;
};

/** The CLI's message for a fixture: `error: FILE:LINE:COL WHERE: MESSAGE`. */
async function cliError(file: string): Promise<{ line: number; message: string; stderr: string }> {
  const run = await runCli(['validate', file, '--cache-dir', cacheDir]);
  const first = run.stderr.split('\n').find((l) => l.startsWith('error: '));
  const m = /^error: .+?:(\d+):\d+ [^ ]+: (.+)$/.exec(first ?? '');
  if (!m) throw new Error(`no positioned error in:\n${run.stderr}`);
  return { line: Number(m[1]), message: m[2], stderr: run.stderr };
}

const SCENE = 'version: 1\nepisodes:\n  - id: e1\n    scenes:\n      - id: s1\n';

describe('the demo manifest in the editor', () => {
  it('has no diagnostics, and the schema is attached (completion offers its keys)', async () => {
    const demo = path.join(root, 'manifests/demo/kitchen-talk.yaml');
    expect(await diagnoseFile(demo)).toEqual([]);
    // Its `$schema` comment is relative, so the edited copy sits beside it (in memory only).
    const items = await completeAtEnd(`${readFileSync(demo, 'utf8')}    format:\n      `, uriOf(path.join(path.dirname(demo), 'editor-copy.yaml')));
    expect(labels(items)).toEqual(expect.arrayContaining(['loudness', 'true_peak']));
  });
});

describe('scene and line rules: the CLI sentence, on the offending key', () => {
  it('a scene with no audio: flagged on the scene, as the CLI says it', async () => {
    const file = path.join(invalid, '12-no-audio.yaml');
    const [d, ...rest] = await diagnoseFile(file);
    expect(rest).toEqual([]);
    const cli = await cliError(file);
    expect(d.message).toBe(cli.message);
    expect(d.message).toBe('scene has no audio: give `left` and/or `right`, or `lines`');
    expect(lineOf(d)).toBe(cli.line);
  });

  it('a scene with both left/right and lines: flagged on `lines`', async () => {
    const file = path.join(invalid, '13-lines-and-pair.yaml');
    const [d, ...rest] = await diagnoseFile(file);
    expect(rest).toEqual([]);
    const cli = await cliError(file);
    expect(d.message).toBe(cli.message);
    expect(lineOf(d)).toBe(10);
    expect(readFileSync(file, 'utf8').split('\n')[lineOf(d) - 1].slice(d.range.start.character)).toMatch(/^lines:/);
  });

  it('a line with both left and right: flagged on the second side, the CLI sentence without the line number', async () => {
    const file = path.join(invalid, '14-line-both-sides.yaml');
    const [d, ...rest] = await diagnoseFile(file);
    expect(rest).toEqual([]);
    const cli = await cliError(file);
    expect(d.message).toBe('a line needs exactly one of left or right, got both');
    expect(d.message.replace(/^a line/, 'line 1')).toBe(cli.message);
    expect(lineOf(d)).toBe(11); // `right:`, the key that makes it two
  });

  it('a line with neither left nor right: flagged on the line', async () => {
    const file = path.join(invalid, '15-line-neither.yaml');
    const [d, ...rest] = await diagnoseFile(file);
    expect(rest).toEqual([]);
    const cli = await cliError(file);
    expect(d.message).toBe('a line needs exactly one of left or right, got neither');
    expect(d.message.replace(/^a line/, 'line 1')).toBe(cli.message);
    expect(lineOf(d)).toBe(cli.line);
  });

  it("the CLI keeps its own wording: no ajv sentence from the editor-only rules leaks into it", async () => {
    for (const name of ['12-no-audio.yaml', '13-lines-and-pair.yaml', '14-line-both-sides.yaml', '15-line-neither.yaml']) {
      const { stderr } = await cliError(path.join(invalid, name));
      expect(stderr).not.toMatch(/must match|anyOf|"then" schema|boolean schema|must have required property/);
      expect(stderr.split('\n').filter((l) => l.startsWith('error: '))).toHaveLength(1);
    }
  });

  it('a schema error beside the rules: the CLI says exactly what it said before the rules were in the schema', async () => {
    const file = path.join(cacheDir, 'mixed.yaml');
    writeFileSync(
      file,
      'version: 1\nepisodes:\n  - id: e1\n    scenes:\n      - id: s1\n        colour: red\n        left: a.wav\n        lines:\n' +
        '          - left: a.wav\n            right: b.wav\n            pause: -1\n          - pause: 2\n' +
        '      - id: s2\n        seed: 1.5\n      - id: Bad Id\n        lines: []\n',
    );
    const run = await runCli(['validate', file, '--cache-dir', cacheDir]);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('error: '))).toEqual([
      `error: ${file}:6:9 e1/s1: unknown key "colour" in scene 1 (allowed: id, title, left, right, lines, resolution, order, prompt, seed, trim, image)`,
      `error: ${file}:11:20 e1/s1: line 1 pause must be at least 0, got -1`,
      `error: ${file}:14:15 e1/s2: seed must be an integer from 0 to 2147483647, or "random", got 1.5`,
      `error: ${file}:15:13 e1/Bad Id: id "Bad Id" must be lower-case letters, digits, "-" or "_", starting with a letter or digit`,
      `error: ${file}:16:16 e1/Bad Id: lines must have at least 1 item`,
    ]);
  });
});

describe('plain-word messages', () => {
  for (const seed of ['"abc"', '-5', '2147483648', '1.5']) {
    it(`seed: ${seed} names every allowed form`, async () => {
      const text = `${SCENE}        left: a.wav\n        seed: ${seed}\n`;
      const diagnostics = await server.diagnose(scratch(), text);
      expect(diagnostics.map((d) => [lineOf(d), d.message])).toEqual([[7, 'seed is an integer from 0 to 2147483647, -1 or "random".']]);
    });
  }

  it('an id with spaces and capitals is explained in words, not as a regex', async () => {
    const diagnostics = await server.diagnose(scratch(), 'version: 1\nepisodes:\n  - id: Cold Open\n    scenes:\n      - id: s1\n        left: a.wav\n');
    expect(diagnostics).toHaveLength(1);
    expect(lineOf(diagnostics[0])).toBe(3);
    expect(diagnostics[0].message).toContain('lower-case letters, digits');
    expect(diagnostics[0].message).toContain('no spaces or capitals');
    expect(diagnostics[0].message).not.toContain('^[a-z0-9]');
  });

  it('valid seeds (-1, "random", an integer) and both scene forms pass', async () => {
    const text =
      'version: 1\nepisodes:\n  - id: e1\n    scenes:\n' +
      '      - id: a\n        left: a.wav\n        seed: -1\n' +
      '      - id: b\n        right: b.wav\n        seed: random\n' +
      '      - id: c\n        lines:\n          - left: a.wav\n          - right: b.wav\n            pause: 0.5\n        seed: 2147483647\n';
    expect(await server.diagnose(scratch(), text)).toEqual([]);
  });
});

describe('completion', () => {
  it('`seed` inserts `seed: `', async () => {
    const items = await completeAtEnd(`${SCENE}        left: a.wav\n        `);
    expect(insertOf(items, 'seed')).toMatch(/^seed: /);
  });

  it('a scene with `left` is offered `right`, not `lines`', async () => {
    const items = await completeAtEnd(`${SCENE}        left: a.wav\n        `);
    expect(labels(items)).toContain('right');
    expect(labels(items)).not.toContain('lines');
    expect(labels(items)).not.toContain('left');
  });

  it('a `lines` scene is offered neither `left` nor `right`', async () => {
    const items = await completeAtEnd(`${SCENE}        lines:\n          - left: a.wav\n        `);
    expect(labels(items)).toContain('title');
    expect(labels(items)).not.toContain('left');
    expect(labels(items)).not.toContain('right');
  });

  it('a scene with no audio yet is offered all three, each with its description', async () => {
    const items = await completeAtEnd(SCENE + '        ');
    expect(labels(items)).toEqual(expect.arrayContaining(['left', 'right', 'lines']));
    expect(docOf(items, 'left')).toBe('Audio for the person on the left: a file or URL, or `{ say: text }`.');
    expect(insertOf(items, 'left')).toMatch(/^left: /);
  });

  it('a line with `left` is not offered `right`', async () => {
    const items = await completeAtEnd(`${SCENE}        lines:\n          - left: a.wav\n            `);
    expect(labels(items)).toContain('pause');
    expect(labels(items)).not.toContain('right');
  });

  it('order, resolution and the seed constants: each value has its own description', async () => {
    const order = await completeAtEnd(`${SCENE}        order: `);
    expect(labels(order)).toEqual(['meanwhile', 'left_right', 'right_left']);
    expect(docOf(order, 'meanwhile')).toContain('longer side');
    expect(docOf(order, 'left_right')).toContain('`left` speaks first');
    expect(docOf(order, 'right_left')).toContain('`right` speaks first');

    const resolution = await completeAtEnd('version: 1\ndefaults:\n  resolution: ');
    expect(docOf(resolution, '480p')).toContain('$0.03');
    expect(docOf(resolution, '720p')).toContain('$0.06');

    const seed = await completeAtEnd(`${SCENE}        seed: `);
    expect(docOf(seed, 'random')).toContain('new seed at each plan');
    expect(docOf(seed, '-1')).toContain('same as `"random"`');
  });

  it('`scenes` has a description; format.loudness and true_peak insert their defaults', async () => {
    const episode = await completeAtEnd('version: 1\nepisodes:\n  - id: e1\n    ');
    expect(docOf(episode, 'scenes')).toMatch(/\S/);
    const format = await completeAtEnd('version: 1\nformat:\n  ');
    expect(insertOf(format, 'loudness')).toContain('-16');
    expect(insertOf(format, 'true_peak')).toContain('-1.5');
  });
});
