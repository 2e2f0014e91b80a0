/**
 * A read screenplay as a manifest (v1, lines written as text): one episode,
 * one scene per scene heading, the two chosen characters' speeches as `say:`
 * lines in order. Pure: the caller reads the file and writes the result.
 */
import { Document, isMap, isScalar, isSeq, Scalar } from 'yaml';
import { emotionOf } from './emotion.ts';
import type { Script, ScriptScene } from './fountain.ts';

export interface ImportOptions {
  /** The character voiced on the left (as written in the script; case and extensions ignored). */
  left: string;
  /** The character voiced on the right. */
  right: string;
  /** The image of the two, as the manifest will name it (relative to the manifest's folder). */
  image?: string;
  /** @default the title's slug, else "episode-1" */
  episodeId?: string;
  /** @default Wise_Woman */
  leftVoice?: string;
  /** @default Deep_Voice_Man */
  rightVoice?: string;
}

export interface ImportResult {
  /** The manifest's YAML text. */
  yaml: string;
  scenes: number;
  lines: number;
  /** What was not carried over, and why: other characters, parentheticals that are not an emotion, scenes without the two. */
  notes: string[];
}

export const DEFAULT_VOICES = { left: 'Wise_Woman', right: 'Deep_Voice_Man' } as const;

interface Line {
  side: 'left' | 'right';
  say: string;
  emotion?: string;
  direction?: string;
}

export function scriptToManifest(script: Script, options: ImportOptions): ImportResult {
  const left = options.left.trim().toUpperCase();
  const right = options.right.trim().toUpperCase();
  const notes: string[] = [];
  const others = new Map<string, number>();
  const seen = new Set<string>([left, right].filter((c) => script.scenes.some((s) => s.speeches.some((x) => x.character === c))));
  for (const c of [left, right]) if (!seen.has(c)) notes.push(`${c} never speaks in this script (characters who do: ${speakers(script).join(', ') || 'none'})`);

  const ids = new Set<string>();
  const scenes: { id: string; title: string; lines: Line[] }[] = [];
  for (const scene of script.scenes) {
    const lines: Line[] = [];
    let dual = false;
    for (const speech of scene.speeches) {
      const side = speech.character === left ? 'left' : speech.character === right ? 'right' : undefined;
      if (!side) {
        others.set(speech.character, (others.get(speech.character) ?? 0) + 1);
        continue;
      }
      const emotion = speech.parenthetical ? emotionOf(speech.parenthetical) : undefined;
      const line: Line = { side, say: speech.text };
      if (emotion) line.emotion = emotion;
      else if (speech.parenthetical) {
        line.direction = speech.parenthetical;
        notes.push(`scene ${scene.number} (${scene.heading}): "(${speech.parenthetical})" is not an emotion a voice takes; kept as a comment`);
      }
      if (speech.dual) dual = true;
      lines.push(line);
    }
    if (dual) notes.push(`scene ${scene.number} (${scene.heading}): dual dialogue imported as turns one after the other, not spoken over each other`);
    if (lines.length === 0) {
      notes.push(`scene ${scene.number} (${scene.heading}): no lines for ${left} or ${right}; left out`);
      continue;
    }
    scenes.push({ id: uniqueId(sceneId(scene), ids), title: scene.heading, lines });
  }
  for (const [character, count] of others) notes.push(`${character}: ${count} speech${count === 1 ? '' : 'es'} not imported (only ${left} and ${right} are voiced)`);
  if (!options.image) notes.push('no image given (--image): set defaults.image before rendering');

  const doc = new Document({
    version: 1,
    ...(script.title ? { title: script.title } : {}),
    cast: {
      left: { voice: options.leftVoice ?? DEFAULT_VOICES.left },
      right: { voice: options.rightVoice ?? DEFAULT_VOICES.right },
    },
    ...(options.image ? { defaults: { image: options.image } } : {}),
    episodes: [
      {
        id: options.episodeId ?? ((script.title && slug(script.title)) || 'episode-1'),
        ...(script.title ? { title: script.title } : {}),
        scenes: scenes.map((s) => ({
          id: s.id,
          title: s.title,
          lines: s.lines.map((l) => ({ [l.side]: { say: l.say, ...(l.emotion ? { emotion: l.emotion } : {}) } })),
        })),
      },
    ],
  });
  decorate(doc, scenes);
  doc.commentBefore = ` Imported from a Fountain screenplay: ${left} on the left, ${right} on the right.`;
  const yaml = doc.toString({ lineWidth: 0 });
  return { yaml: yaml.endsWith('\n') ? yaml : `${yaml}\n`, scenes: scenes.length, lines: scenes.reduce((n, s) => n + s.lines.length, 0), notes };
}

/** Each `say:` as a one-line map; a parenthetical that is no emotion stays beside its line as a comment. */
function decorate(doc: Document, scenes: { lines: Line[] }[]): void {
  const sceneSeq = doc.getIn(['episodes', 0, 'scenes']);
  if (!isSeq(sceneSeq)) return;
  sceneSeq.items.forEach((sceneNode, i) => {
    if (!isMap(sceneNode)) return;
    const lineSeq = sceneNode.get('lines');
    if (!isSeq(lineSeq)) return;
    lineSeq.items.forEach((lineNode, j) => {
      if (!isMap(lineNode)) return;
      const said = lineNode.items[0]?.value;
      if (isMap(said)) {
        said.flow = true;
        // Quoted always: a line of dialogue is full of the commas and colons that end a plain scalar.
        const text = said.get('say', true);
        if (isScalar(text)) text.type = Scalar.QUOTE_DOUBLE;
      }
      const direction = scenes[i]!.lines[j]!.direction;
      if (direction) lineNode.commentBefore = ` (${direction})`;
    });
  });
}

function speakers(script: Script): string[] {
  return [...new Set(script.scenes.flatMap((s) => s.speeches.map((x) => x.character)))];
}

/** "INT. KITCHEN - MORNING" → "int-kitchen-morning": a manifest id (lower case, digits, - and _, at most 64). */
export function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 56)
    .replace(/-+$/g, '');
}

function sceneId(scene: ScriptScene): string {
  return slug(scene.heading) || `scene-${scene.number}`;
}

function uniqueId(id: string, taken: Set<string>): string {
  let candidate = id;
  for (let n = 2; taken.has(candidate); n++) candidate = `${id}-${n}`;
  taken.add(candidate);
  return candidate;
}
