/**
 * Lines written as text, between reading the manifests and inspecting their
 * media: a line whose speech is cached becomes its audio file (so the video
 * key is made from the speech's bytes); a line not voiced yet stays text,
 * with an estimated length for planning. What is left to voice is listed,
 * one task per speech key.
 */
import type { RenderRow, RenderStore } from '../cache/interfaces.ts';
import type { ClipStore } from '../cache/clips/index.ts';
import { locateClip } from '../cache/clips/locate.ts';
import type { MediaFacts } from '../media/facts.ts';
import type { SpeechWork } from '../schedule/speech.ts';
import type { SpeechInfo } from '../providers/speech-info.ts';
import { estimateLength } from '../speech/estimate.ts';
import { speechKey, speechKeyInput, type SpeechKeyInput } from '../speech/key.ts';
import { billedChars, speechCostUsd } from '../speech/prices.ts';
import type { MediaRef, SceneSpec, Series, SpeechSpec } from '../types.ts';


/** One speech to make, with every line that uses it. */
export type SpeechJob = SpeechWork;

/** A voiced or cached line, for the report: per line, its text, voice and what its speech cost. */
export interface LineReport {
  episodeId: string;
  sceneId: string;
  line: number;
  side: 'left' | 'right';
  text: string;
  voice: string;
  key: string;
  /** Speech cost this run (0: cached, or voiced by an earlier line of the run). */
  usd: number;
  status: 'cached' | 'voiced' | 'pending' | 'failed' | 'skipped' | 'held' | 'interrupted';
  error?: string;
}

export interface VoicedSeries {
  series: Series;
  /** Facts for lines not voiced yet (by their `speech:<key>` location). */
  pendingFacts: Map<string, MediaFacts>;
  jobs: SpeechJob[];
  lines: LineReport[];
}

/** Every text line of the series, in order: where it is and its spec. */
function textLines(series: Series): { scene: SceneSpec; line: number; side: 'left' | 'right'; ref: MediaRef; set: (ref: MediaRef) => void }[] {
  const out: ReturnType<typeof textLines> = [];
  for (const ep of series.episodes) {
    for (const scene of ep.scenes) {
      const a = scene.audio;
      if (a.form === 'lines') {
        a.lines.forEach((l, i) => {
          if (l.media.kind === 'speech') out.push({ scene, line: i + 1, side: l.side, ref: l.media, set: (ref) => (l.media = ref) });
        });
      } else {
        if (a.left?.kind === 'speech') out.push({ scene, line: 1, side: 'left', ref: a.left, set: (ref) => (a.left = ref) });
        if (a.right?.kind === 'speech') out.push({ scene, line: 2, side: 'right', ref: a.right, set: (ref) => (a.right = ref) });
      }
    }
  }
  return out;
}

/**
 * Resolves the text lines of `series` (a copy is returned; the input is not
 * changed) against the speech cache: complete speech whose audio is here (or
 * in the shared clip store) becomes a file.
 */
export async function resolveSpeech(
  input: Series,
  options: { info: SpeechInfo; renders: Pick<RenderStore, 'getMany'>; clips?: ClipStore; clipsDir: string; signal?: AbortSignal },
): Promise<VoicedSeries> {
  const series = structuredClone(input);
  const lines = textLines(series);
  const keyOf = (spec: SpeechSpec) => speechKeyInput(options.info.id, options.info.modelFor(spec), spec);
  const keyed = lines.map((l) => ({ ...l, inputs: keyOf(l.ref.speech!) })).map((l) => ({ ...l, key: speechKey(l.inputs) }));
  const rows = keyed.length === 0 ? new Map<string, RenderRow>() : await options.renders.getMany([...new Set(keyed.map((l) => l.key))]);

  // Where each complete speech's audio is (a shared store fetches it here once).
  const files = new Map<string, string>();
  for (const row of rows.values()) {
    if (row.status !== 'complete') continue;
    const found = options.clips?.shared ? await options.clips.fetch(row, options.signal) : locateClip(row, options.clipsDir);
    if ('path' in found) files.set(row.key, found.path);
  }
  const rates = learnedRates(rows);

  const pendingFacts = new Map<string, MediaFacts>();
  const jobs = new Map<string, SpeechJob>();
  const report: LineReport[] = [];
  for (const l of keyed) {
    const spec = l.ref.speech!;
    const file = files.get(l.key);
    const base = { episodeId: l.scene.episodeId, sceneId: l.scene.sceneId, line: l.line, side: l.side, text: spec.text, voice: spec.voice, key: l.key, usd: 0 };
    if (file) {
      l.set({ ...l.ref, kind: 'file', location: file });
      report.push({ ...base, status: 'cached' });
      continue;
    }
    const location = `speech:${l.key}`;
    l.set({ ...l.ref, location });
    const est = estimateLength(spec, rates);
    const usd = speechCostUsd(spec.text, l.inputs.model, options.info.prices);
    pendingFacts.set(location, {
      kind: 'audio',
      sha256: l.key,
      localPath: '',
      durationMs: est.maxMs,
      sampleRate: 0,
      channels: 1,
      pending: { key: l.key, usd, ms: est.ms, charsPerSecond: est.charsPerSecond, learned: est.learned },
    });
    const use = { episodeId: l.scene.episodeId, sceneId: l.scene.sceneId, line: l.line };
    const job = jobs.get(l.key);
    if (job) job.uses.push(use);
    else jobs.set(l.key, { task: { key: l.key, ...use, spec, model: l.inputs.model, estimateSeconds: est.ms / 1000 }, inputs: l.inputs, usd, uses: [use] });
    report.push({ ...base, status: 'pending' });
  }
  return { series, pendingFacts, jobs: [...jobs.values()], lines: report };
}

/** Characters per second per voice, from the voice's complete speech (its text is in the row's inputs). */
function learnedRates(rows: ReadonlyMap<string, RenderRow>): Map<string, number> {
  const sums = new Map<string, { chars: number; seconds: number }>();
  for (const row of rows.values()) {
    if (row.status !== 'complete' || !row.video_seconds) continue;
    let inputs: SpeechKeyInput;
    try {
      inputs = JSON.parse(row.inputs) as SpeechKeyInput;
    } catch {
      continue;
    }
    if (inputs.stage !== 'speech') continue;
    const s = sums.get(inputs.voice) ?? { chars: 0, seconds: 0 };
    // Measured at speed 1, so a rate learned at another speed is scaled back.
    s.chars += billedChars(inputs.text) / inputs.speed;
    s.seconds += row.video_seconds;
    sums.set(inputs.voice, s);
  }
  return new Map([...sums].filter(([, s]) => s.seconds > 0).map(([voice, s]) => [voice, s.chars / s.seconds]));
}
