import { describe, expect, it } from 'vitest';
import { characterName, clean, readFountain } from '../../pipeline/import/fountain.ts';
import { emotionOf } from '../../pipeline/import/emotion.ts';

describe('readFountain', () => {
  it('reads scenes from headings and speeches in order, with their parentheticals', () => {
    const script = readFountain(['Title: Two', '', 'INT. A - DAY', '', 'ANA', '(sadly)', 'Hello.', '', 'BEN', 'Hi.', '', 'EXT. B - NIGHT', '', 'BEN', 'Bye.', ''].join('\n'));
    expect(script).toEqual({
      title: 'Two',
      scenes: [
        { heading: 'INT. A - DAY', number: 1, speeches: [{ character: 'ANA', text: 'Hello.', parenthetical: 'sadly' }, { character: 'BEN', text: 'Hi.' }] },
        { heading: 'EXT. B - NIGHT', number: 2, speeches: [{ character: 'BEN', text: 'Bye.' }] },
      ],
    });
  });

  it('keeps a cold open before the first heading as a scene, and drops an opening with no dialogue', () => {
    expect(readFountain('ANA\nFirst!\n\nINT. A\n\nBEN\nSecond.\n').scenes.map((s) => s.heading)).toEqual(['(before the first scene heading)', 'INT. A']);
    expect(readFountain('Rain on a window.\n\nINT. A\n\nBEN\nSecond.\n').scenes.map((s) => s.heading)).toEqual(['INT. A']);
  });

  it('gives a parenthetical in the middle of a speech to the words after it', () => {
    const [scene] = readFountain('INT. A\n\nANA\n(cheerful)\nHere you go.\n(to the dog)\nNot for you.\n').scenes;
    expect(scene!.speeches).toEqual([
      { character: 'ANA', text: 'Here you go.', parenthetical: 'cheerful' },
      { character: 'ANA', text: 'Not for you.', parenthetical: 'to the dog' },
    ]);
  });

  it('marks dual dialogue and leaves the boneyard out', () => {
    const [scene] = readFountain('INT. A\n\n/* BEN\nCut line.\n*/\n\nANA\nNow!\n\nBEN ^\nNow!\n').scenes;
    expect(scene!.speeches).toEqual([
      { character: 'ANA', text: 'Now!', dual: true },
      { character: 'BEN', text: 'Now!', dual: true },
    ]);
  });

  it('has no title when the title page names none', () => {
    expect(readFountain('INT. A\n\nANA\nHi.\n')).not.toHaveProperty('title');
  });
});

describe('characterName', () => {
  it.each([
    ['ANA', 'ANA'],
    ['Ana (V.O.)', 'ANA'],
    ["BEN (CONT'D)", 'BEN'],
    ['@McClane', 'MCCLANE'],
    ['BEN ^', 'BEN'],
  ])('%s → %s', (raw, name) => expect(characterName(raw)).toBe(name));
});

describe('clean', () => {
  it('removes emphasis, notes and line breaks, and keeps escaped asterisks', () => {
    expect(clean('Good *morning*, **Ben**! [[brighter]]')).toBe('Good morning, Ben!');
    expect(clean('One _line_\nand   another')).toBe('One line and another');
    expect(clean('It cost me \\*nothing\\*')).toBe('It cost me *nothing*');
    expect(clean('<br />')).toBe('');
  });
});

describe('emotionOf', () => {
  it.each([
    ['angrily', 'angry'],
    ['Cheerfully', 'happy'],
    ['through tears', 'sad'],
    ['deadpan.', 'neutral'],
    ['SURPRISED', 'surprised'],
  ])('(%s) → %s', (p, e) => expect(emotionOf(p)).toBe(e));

  it('is undefined for stage direction, even one that contains an emotion word', () => {
    expect(emotionOf('to the dog')).toBeUndefined();
    expect(emotionOf('angry at the dog')).toBeUndefined();
    expect(emotionOf('whispering')).toBeUndefined();
  });
});
