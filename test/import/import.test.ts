import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFountain } from '../../pipeline/import/fountain.ts';
import { scriptToManifest, slug } from '../../pipeline/import/to-manifest.ts';
import { runCli } from '../helpers/cli.ts';

const SAMPLE = path.resolve('test/fixtures/scripts/sample.fountain');

interface Said {
  say: string;
  emotion?: string;
}
type ImportedLine = { left: Said } | { right: Said };

describe('a screenplay as a manifest', () => {
  it('round-trips: the two characters say, in order and in each scene, exactly what the script gives them', async () => {
    const script = readFountain(await readFile(SAMPLE, 'utf8'));
    const result = scriptToManifest(script, { left: 'ana', right: 'Ben', image: 'images/kitchen.png' });
    const manifest = parse(result.yaml);
    const scenes = manifest.episodes[0].scenes as { id: string; title: string; lines: ImportedLine[] }[];
    const fromManifest = scenes.map((s) => ({
      heading: s.title,
      said: s.lines.map((l) => ('left' in l ? `ANA: ${l.left.say}` : `BEN: ${l.right.say}`)),
    }));
    const fromScript = script.scenes
      .map((s) => ({ heading: s.heading, said: s.speeches.filter((x) => x.character === 'ANA' || x.character === 'BEN').map((x) => `${x.character}: ${x.text}`) }))
      .filter((s) => s.said.length > 0);
    expect(fromManifest).toEqual(fromScript);
    expect(result).toMatchObject({ scenes: 2, lines: 10 });
    expect(manifest).toMatchObject({
      version: 1,
      title: 'The Sourdough Affair',
      cast: { left: { voice: 'Wise_Woman' }, right: { voice: 'Deep_Voice_Man' } },
      defaults: { image: 'images/kitchen.png' },
      episodes: [{ id: 'the-sourdough-affair', title: 'The Sourdough Affair' }],
    });
  });

  it('turns parentheticals that are emotions into emotion:, keeps the others as comments, and says so', async () => {
    const result = scriptToManifest(readFountain(await readFile(SAMPLE, 'utf8')), { left: 'ANA', right: 'BEN' });
    const lines = parse(result.yaml).episodes[0].scenes.flatMap((s: { lines: ImportedLine[] }) => s.lines.map((l) => ('left' in l ? l.left : l.right)));
    expect(lines.filter((l: Said) => l.emotion).map((l: Said) => `${l.emotion}: ${l.say}`)).toEqual([
      'happy: Good morning, Ben!',
      'surprised: Very early.',
      'angry: The starter died. The whole jar. We had it for three years.',
      'sad: All of it?',
    ]);
    expect(result.yaml).toContain('# (whispering)\n          - left: { say: "She\'s up early." }');
    expect(result.notes).toEqual([
      'scene 1 (INT. KITCHEN - MORNING): "(to the dog)" is not an emotion a voice takes; kept as a comment',
      'scene 1 (INT. KITCHEN - MORNING): "(whispering)" is not an emotion a voice takes; kept as a comment',
      'scene 1 (INT. KITCHEN - MORNING): dual dialogue imported as turns one after the other, not spoken over each other',
      'scene 2 (EXT. GARDEN - DAY): no lines for ANA or BEN; left out',
      'MARIA: 1 speech not imported (only ANA and BEN are voiced)',
      'MCCLANE: 1 speech not imported (only ANA and BEN are voiced)',
      'no image given (--image): set defaults.image before rendering',
    ]);
  });

  it('gives scenes with the same heading distinct ids, and names a character who never speaks', () => {
    const script = readFountain('INT. KITCHEN\n\nANA\nOne.\n\nINT. KITCHEN\n\nANA\nTwo.\n');
    const result = scriptToManifest(script, { left: 'ANA', right: 'BOB', image: 'x.png', episodeId: 'e1' });
    expect(parse(result.yaml).episodes[0].scenes.map((s: { id: string }) => s.id)).toEqual(['int-kitchen', 'int-kitchen-2']);
    expect(parse(result.yaml).episodes[0].id).toBe('e1');
    expect(result.notes).toEqual(['BOB never speaks in this script (characters who do: ANA)']);
  });

  it('makes ids a manifest accepts from any heading', () => {
    expect(slug('INT. CAFÉ — NIGHT (1983)')).toBe('int-cafe-night-1983');
    expect(slug('***')).toBe('');
    expect(slug('A'.repeat(100))).toHaveLength(56);
  });
});

describe('duologue import', () => {
  it('writes the manifest with --output, its image relative to the manifest, and refuses to replace it without --force', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'import-'));
    const argv = ['import', SAMPLE, '--left', 'Ana', '--right', 'Ben', '--image', path.join(dir, 'img', 'two.png'), '--output', path.join(dir, 'show', 'ep.yaml')];
    await mkdir(path.join(dir, 'show'));
    const first = await runCli(argv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('2 scenes, 10 lines');
    expect(first.stderr).toContain('note: MARIA: 1 speech not imported');
    expect(parse(await readFile(path.join(dir, 'show', 'ep.yaml'), 'utf8')).defaults.image).toBe('../img/two.png');

    await writeFile(path.join(dir, 'show', 'ep.yaml'), 'mine\n');
    const again = await runCli(argv);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists (--force to replace it)');
    expect(await readFile(path.join(dir, 'show', 'ep.yaml'), 'utf8')).toBe('mine\n');
    expect((await runCli([...argv, '--force'])).code).toBe(0);
    expect(await readFile(path.join(dir, 'show', 'ep.yaml'), 'utf8')).toContain('say: "Good morning, Ben!"');
  });

  it('prints the manifest on stdout without --output', async () => {
    const run = await runCli(['import', SAMPLE, '--left', 'ana', '--right', 'ben', '--episode', 's01e01']);
    expect(run.code).toBe(0);
    expect(parse(run.stdout).episodes[0].id).toBe('s01e01');
  });

  it.each([
    [['--left', 'ANA', '--right', 'ana'], 2, '--left and --right name the same character (ANA)'],
    [['--left', 'ANA', '--right', 'BEN', '--episode', 'Pilot One'], 2, '--episode "Pilot One" is not an id'],
    [['--left', 'ANA'], 2, "required option '--right <name>' not specified"],
  ])('refuses %j with a clear error', async (flags, code, words) => {
    const run = await runCli(['import', SAMPLE, ...flags]);
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(words);
    expect(run.stdout).toBe('');
  });

  it('names a screenplay it cannot read, and a file with no dialogue', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'import-'));
    const missing = await runCli(['import', path.join(dir, 'nope.fountain'), '--left', 'A', '--right', 'B']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.fountain: cannot read the screenplay (no such file)');
    await writeFile(path.join(dir, 'prose.txt'), 'Once upon a time there was nobody talking.\n');
    const prose = await runCli(['import', path.join(dir, 'prose.txt'), '--left', 'A', '--right', 'B']);
    expect(prose.code).toBe(2);
    expect(prose.stderr).toContain('prose.txt: no dialogue found (is it a Fountain screenplay?)');
  });
});
