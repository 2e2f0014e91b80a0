/**
 * A Fountain screenplay read into what an import needs: scenes (from their
 * headings) and, in each, who says what, in order. The parser is fountain-js;
 * this file only walks its tokens and cleans the text a voice would read.
 */
import { Fountain } from 'fountain-js';

export interface ScriptSpeech {
  /** The character as written, extensions such as (V.O.) and (CONT'D) removed, upper case. */
  character: string;
  /** What is said, markup and notes removed, lines joined by spaces. */
  text: string;
  /** The parenthetical before this speech in its block, without the brackets ("whispering"). */
  parenthetical?: string;
  /** Spoken at the same time as the block beside it (Fountain's `^`). */
  dual?: boolean;
}

export interface ScriptScene {
  /** The scene heading ("INT. KITCHEN - MORNING"); "(before the first scene heading)" for a cold open without one. */
  heading: string;
  /** 1-based position among the script's scenes, for messages. */
  number: number;
  speeches: ScriptSpeech[];
}

export interface Script {
  title?: string;
  scenes: ScriptScene[];
}

export const BEFORE_FIRST_HEADING = '(before the first scene heading)';

export function readFountain(source: string): Script {
  const parsed = new Fountain().parse(source, true);
  const scenes: ScriptScene[] = [];
  let scene: ScriptScene | undefined;
  let character: string | undefined;
  let parenthetical: string | undefined;
  let dual = false;
  const current = (): ScriptScene => {
    if (!scene) {
      scene = { heading: BEFORE_FIRST_HEADING, number: scenes.length + 1, speeches: [] };
      scenes.push(scene);
    }
    return scene;
  };
  for (const token of parsed.tokens) {
    switch (token.type) {
      case 'scene_heading':
        scene = { heading: clean(token.text ?? ''), number: scenes.length + 1, speeches: [] };
        scenes.push(scene);
        break;
      case 'dual_dialogue_begin':
        dual = true;
        break;
      case 'dual_dialogue_end':
        dual = false;
        break;
      case 'dialogue_begin':
        character = undefined;
        parenthetical = undefined;
        break;
      case 'character':
        character = characterName(token.text ?? '');
        break;
      case 'parenthetical':
        parenthetical = clean((token.text ?? '').replace(/^\(|\)$/g, '')) || undefined;
        break;
      case 'dialogue': {
        const text = clean(token.text ?? '');
        if (character && text) current().speeches.push({ character, text, ...(parenthetical ? { parenthetical } : {}), ...(dual ? { dual } : {}) });
        break;
      }
      default:
        break;
    }
  }
  // A script whose title page names no title leaves it undefined, not "".
  const title = parsed.title ? clean(parsed.title) : undefined;
  // An opening stretch with no dialogue and no heading is not a scene anyone wrote.
  return { ...(title ? { title } : {}), scenes: scenes.filter((s) => s.heading !== BEFORE_FIRST_HEADING || s.speeches.length > 0) };
}

/** "ANA (V.O.)", "@McClane", "BEN (CONT'D)" → "ANA", "MCCLANE", "BEN". */
export function characterName(raw: string): string {
  return raw
    .replace(/^@/, '')
    .replace(/\s*\^\s*$/, '')
    .replace(/\s*\([^)]*\)/g, '')
    .trim()
    .toUpperCase();
}

/**
 * The words a voice reads: emphasis markers, notes ([[...]]), boneyard
 * (/* ... *\/) and the HTML fountain-js leaves in titles removed; line breaks
 * inside a speech are one space.
 */
export function clean(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\[\[[\s\S]*?\]\]/g, '')
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<[^>]+>/g, '')
    // An escaped \* or \_ is a literal character, kept while the markers around it go.
    .replace(/\\\*/g, '\u0001')
    .replace(/\\_/g, '\u0002')
    .replace(/[*_]+/g, '')
    .replace(/\u0001/g, '*')
    .replace(/\u0002/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
}
