import path from 'node:path';
import { DEFAULTS } from '../defaults.ts';
import type { Diagnostic } from '../errors.ts';
import { mergeCast, speechSpec, type RawCast, type RawSay } from './cast.ts';
import { deriveSeed } from './seed.ts';
import { sha256Text } from '../media/hash.ts';
import { trimOf } from './trim.ts';
import { positionOf, type DataPath, type ManifestSource } from './source.ts';
import type { DialogueLine, EpisodeSpec, ManifestInfo, MediaRef, SceneAudio, SceneSpec, SeedSpec, Order, Resolution, Side } from '../types.ts';

/** Shapes guaranteed by the schema (checked before this runs). */
interface RawSettings {
  resolution?: Resolution;
  order?: Order;
  prompt?: string;
  seed?: number | 'random';
  image?: string;
  trim?: 'edges' | 'none' | { edges: boolean; margin?: number };
}
/** An audio path or URL, or a line written as text. */
type RawAudio = string | RawSay;
interface RawLine {
  left?: RawAudio;
  right?: RawAudio;
  pause?: number;
}
interface RawScene extends RawSettings {
  id: string;
  title?: string;
  left?: RawAudio;
  right?: RawAudio;
  lines?: RawLine[];
}
interface RawFormat {
  resolution?: Resolution;
  loudness?: number;
  true_peak?: number;
}
interface RawEpisode {
  id: string;
  format?: RawFormat;
  title?: string;
  output?: string;
  defaults?: RawSettings;
  cast?: RawCast;
  scenes: RawScene[];
}
export interface RawManifest {
  version: 1;
  title?: string;
  budget?: number;
  format?: RawFormat;
  defaults?: RawSettings;
  cast?: RawCast;
  episodes: RawEpisode[];
}

const SETTINGS = ['resolution', 'order', 'prompt', 'seed', 'image', 'trim'] as const;

/**
 * Merges defaults (top level < episode < scene), resolves paths against the
 * manifest's folder and fixes each scene's seed. Pushes a diagnostic for each
 * scene-level mistake the schema cannot express, and keeps going.
 */
export function normalizeManifest(
  source: ManifestSource,
  raw: RawManifest,
  diagnostics: Diagnostic[],
): { info: ManifestInfo; episodes: EpisodeSpec[] } {
  const file = source.file;
  const dir = path.dirname(path.resolve(file));
  const at = (p: DataPath, key = false) => positionOf(source, p, key ? 'key' : 'value');
  const problem = (severity: Diagnostic['severity'], p: DataPath, where: string, message: string, key = false) => {
    const { line, col } = at(p, key);
    diagnostics.push({ severity, code: 'E_MANIFEST', file, line, col, where, message });
  };
  // One string per distinct name and path: scenes sharing an image or a track otherwise each kept a
  // copy of its absolute path (and name) for the whole run, ~5 MB over 10,000 scenes.
  const named = new Map<string, { given: string; location: string }>();
  const media = (given: string, p: DataPath): MediaRef => {
    let ref = named.get(given);
    if (!ref) named.set(given, (ref = { given, location: /^https?:\/\//i.test(given) ? given : path.resolve(dir, given) }));
    return { given: ref.given, kind: /^https?:\/\//i.test(given) ? 'url' : 'file', location: ref.location, file, pos: at(p) };
  };

  /** A side's audio: a path or URL as before, or text with its voice (undefined when the line cannot be voiced: reported). */
  const audioRef = (given: RawAudio, p: DataPath, side: Side, cast: RawCast, where: string): MediaRef | undefined => {
    if (typeof given === 'string') return media(given, p);
    const resolved = speechSpec(given, side, cast);
    if (!resolved.ok) {
      problem('error', p, where, resolved.message);
      return undefined;
    }
    const spec = resolved.spec;
    return { given: `say "${clip(spec.text)}"`, kind: 'speech', location: `speech:${sha256Text(JSON.stringify(spec))}`, speech: spec, file, pos: at(p) };
  };

  const episodes = raw.episodes.map((ep, e): EpisodeSpec => {
    const epPath: DataPath = ['episodes', e];
    const cast = mergeCast(raw.cast, ep.cast);
    const seenScenes = new Map<string, number>();
    const scenes: SceneSpec[] = [];
    ep.scenes.forEach((sc, s) => {
      const scPath: DataPath = [...epPath, 'scenes', s];
      const where = `${ep.id}/${sc.id}`;
      const first = seenScenes.get(sc.id);
      if (first !== undefined) {
        problem('error', [...scPath, 'id'], where, `scene id "${sc.id}" is used twice in episode ${ep.id} (first at line ${at([...epPath, 'scenes', first, 'id']).line})`);
      } else {
        seenScenes.set(sc.id, s);
      }
      // Each setting comes from the most specific place that sets it; remember where, for messages.
      const pick = <K extends (typeof SETTINGS)[number]>(key: K): { value: RawSettings[K]; from: DataPath } | undefined => {
        if (sc[key] !== undefined) return { value: sc[key], from: [...scPath, key] };
        if (ep.defaults?.[key] !== undefined) return { value: ep.defaults[key], from: [...epPath, 'defaults', key] };
        if (raw.defaults?.[key] !== undefined) return { value: raw.defaults[key], from: ['defaults', key] };
        return undefined;
      };

      const image = pick('image');
      if (!image) problem('error', scPath, where, 'no image: set `image` on the scene, in the episode defaults or in the top-level defaults');

      const audio = sceneAudio(sc, scPath, where, cast);
      if (!audio) return;
      let order: Order = pick('order')?.value ?? DEFAULTS.order;
      if (audio.form === 'lines') {
        if (sc.order !== undefined && sc.order !== 'meanwhile') {
          problem('warning', [...scPath, 'order'], where, `order "${sc.order}" is ignored: a lines scene is rendered as one meanwhile job`);
        }
        order = 'meanwhile';
      } else if (!audio.left || !audio.right) {
        // One voice: the listener's silent track runs alongside, which costs the same
        // as the voice alone; a sequential order would bill the silence on top.
        order = 'meanwhile';
      }
      const seedPick = pick('seed');
      const seed: SeedSpec =
        seedPick === undefined
          ? { kind: 'derived', value: deriveSeed(ep.id, sc.id) }
          : seedPick.value === 'random' || seedPick.value === -1
            ? { kind: 'random' }
            : { kind: 'fixed', value: seedPick.value as number };
      if (!image) return;
      scenes.push({
        episodeId: ep.id,
        sceneId: sc.id,
        title: sc.title ?? sc.id,
        file,
        pos: at(scPath),
        image: media(image.value as string, image.from),
        resolution: pick('resolution')?.value ?? DEFAULTS.resolution,
        order,
        prompt: pick('prompt')?.value ?? DEFAULTS.prompt,
        seed,
        audio,
        ...trimOf(pick('trim')?.value),
      });
    });
    const format = { ...raw.format, ...ep.format };
    return {
      id: ep.id,
      format: { resolution: format.resolution, loudness: format.loudness, truePeak: format.true_peak },
      title: ep.title,
      output: ep.output === undefined ? undefined : path.resolve(dir, ep.output),
      outputGiven: ep.output,
      outputPos: ep.output === undefined ? undefined : at([...epPath, 'output']),
      file,
      pos: at([...epPath, 'id']),
      scenes,
    };
  });

  function sceneAudio(sc: RawScene, scPath: DataPath, where: string, cast: RawCast): SceneAudio | undefined {
    const hasPair = sc.left !== undefined || sc.right !== undefined;
    if (hasPair && sc.lines !== undefined) {
      problem('error', [...scPath, 'lines'], where, 'a scene has either left/right or lines, not both', true);
      return undefined;
    }
    if (sc.lines !== undefined) {
      const lines: DialogueLine[] = [];
      sc.lines.forEach((ln, i) => {
        const lnPath: DataPath = [...scPath, 'lines', i];
        if ((ln.left === undefined) === (ln.right === undefined)) {
          problem('error', lnPath, where, `line ${i + 1} needs exactly one of left or right, got ${ln.left === undefined ? 'neither' : 'both'}`);
          return;
        }
        const side = ln.left !== undefined ? 'left' : 'right';
        const ref = audioRef((ln.left ?? ln.right) as RawAudio, [...lnPath, side], side, cast, where);
        if (ref) lines.push({ side, media: ref, pauseMs: Math.round((ln.pause ?? 0) * 1000) });
      });
      return lines.length === sc.lines.length ? { form: 'lines', lines } : undefined;
    }
    if (!hasPair) {
      problem('error', scPath, where, 'scene has no audio: give `left` and/or `right`, or `lines`');
      return undefined;
    }
    const left = sc.left === undefined ? undefined : audioRef(sc.left, [...scPath, 'left'], 'left', cast, where);
    const right = sc.right === undefined ? undefined : audioRef(sc.right, [...scPath, 'right'], 'right', cast, where);
    if ((sc.left !== undefined && !left) || (sc.right !== undefined && !right)) return undefined;
    return { form: 'pair', left, right };
  }

  return { info: { file, title: raw.title, budget: raw.budget, episodes: episodes.map((e) => e.id) }, episodes };
}

/** A line's text shortened for messages. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
