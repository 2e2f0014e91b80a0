/**
 * Through the one wiring (planManifests): edge silence measured once and
 * remembered, each scene's billed seconds split to the millisecond, and
 * `trim: edges` in the manifest changing tracks, cost and cache key.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { planToJson } from '../../pipeline/report/plan-json.ts';
import { planToText } from '../../pipeline/report/plan-text.ts';
import { planManifests } from '../../pipeline/run/plan-manifests.ts';
import { wavWithSilences } from '../helpers/silences.ts';
import { tinyProject } from '../helpers/tasks.ts';

const ffmpeg = resolveFfmpegPaths();
const open: Store[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

let dir: string;
beforeAll(async () => {
  dir = tinyProject('version: 1\nepisodes: []\n').dir;
  // 0.6 s room tone, 1.3 s speech, 0.45 s room tone = 2.35 s
  await wavWithSilences(path.join(dir, 'short.wav'), { leadMs: 600, speechMs: 1300, trailMs: 450 }, ffmpeg);
  // 0.25 s, 5.1 s speech, 0.7 s = 6.05 s
  await wavWithSilences(path.join(dir, 'long.wav'), { leadMs: 250, speechMs: 5100, trailMs: 700 }, ffmpeg);
  await wavWithSilences(path.join(dir, 'a32.wav'), { leadMs: 0, speechMs: 3200, trailMs: 0 }, ffmpeg);
  await wavWithSilences(path.join(dir, 'b35.wav'), { leadMs: 0, speechMs: 3500, trailMs: 0, freq: 300 }, ffmpeg);
});

function manifest(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `version: 1\ndefaults: { image: two-people.png, prompt: two people talking }\n${body}`);
  return file;
}

async function planned(file: string, cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-waste-')), provider = PROVIDERS.wavespeed) {
  const store = await openStore({ dir: cacheDir });
  open.push(store);
  const silenceStats = { measured: 0, memoHits: 0 };
  const m = await planManifests([file], { store, cacheDir, ffmpeg, provider, outputs: { outDir: path.join(cacheDir, 'out') }, silenceStats });
  return { plan: m.planWith(), m, silenceStats, cacheDir };
}

const SCENES = `episodes:
  - id: ep
    scenes:
      - { id: short, left: short.wav, seed: 1 }
      - { id: long, right: long.wav, seed: 2 }
`;

describe('waste figures in the plan', () => {
  it('splits each scene: speech, leading and trailing silence, padding to 5 s, rounding up', async () => {
    const { plan } = await planned(manifest('plain.yaml', SCENES));
    const [short, long] = plan.episodes[0].scenes;
    expect(short.waste.split).toEqual({ billedMs: 5000, speechMs: 1300, leadingSilenceMs: 600, trailingSilenceMs: 450, paddingMs: 2650, roundingMs: 0 });
    expect(long.waste.split).toEqual({ billedMs: 7000, speechMs: 5100, leadingSilenceMs: 250, trailingSilenceMs: 700, paddingMs: 0, roundingMs: 950 });
    // 480p = $0.03/s: short pays $0.15 of which 3.7 s ($0.111) for nobody speaking
    expect(short.waste.usd).toEqual({ speechUsd: 0.039, silenceUsd: 0.0315, paddingUsd: 0.0795, roundingUsd: 0, wasteUsd: 0.111 });
    expect(plan.totals.waste.split).toMatchObject({ billedMs: 12_000, speechMs: 6400, paddingMs: 2650, roundingMs: 950 });
    // trim is off: the long scene would be billed 6 s instead of 7 with it
    expect(long.waste.trim).toMatchObject({ on: false, savedBilledSeconds: 1, savedUsd: 0.03 });
    expect(plan.totals.waste).toMatchObject({ trimSavedUsd: 0, trimPossibleUsd: 0.03 });
  });

  it('measures each audio file once; a warm plan reads the memo and decodes nothing', async () => {
    const file = manifest('memo.yaml', SCENES);
    const cold = await planned(file);
    expect(cold.silenceStats).toEqual({ measured: 2, memoHits: 0 });
    const warm = await planned(file, cold.cacheDir);
    expect(warm.silenceStats).toEqual({ measured: 0, memoHits: 2 });
    expect(warm.plan.episodes[0].scenes[1].waste).toEqual(cold.plan.episodes[0].scenes[1].waste);
  });

  it('shows the split per scene and in total in text and --json (existing fields kept)', async () => {
    const { plan, m } = await planned(manifest('show.yaml', SCENES));
    const json = planToJson(plan, [], m.outputOf, { cwd: dir, explain: true });
    const scene = json.episodes[0].scenes[1];
    expect(scene).toMatchObject({ video_seconds: 6.05, billed_seconds: 7, estimate_usd: 0.21 });
    expect(scene.waste).toEqual({
      billed_seconds: 7, speech_seconds: 5.1, leading_silence_seconds: 0.25, trailing_silence_seconds: 0.7, padding_seconds: 0, rounding_seconds: 0.95,
      speech_usd: 0.153, silence_usd: 0.0285, padding_usd: 0, rounding_usd: 0.0285, waste_usd: 0.057, silence_measured: true,
    });
    expect(scene.trim).toMatchObject({ edges: false, possible_saving_usd: 0.03, saved_usd: 0 });
    expect(json.totals.waste).toMatchObject({ billed_seconds: 12, padding_seconds: 2.65, waste_usd: 0.168 });
    expect(scene.explain_waste).toBe('$0.057 of 7 billed s pays for nobody speaking: 0.25 s of silence before the first word, 0.7 s after the last, 0.95 s of rounding up to 7 s; `trim: edges` would save $0.030 (7 → 6 billed s)');
    const text = planToText(plan, [], m.outputOf, { cwd: dir });
    expect(text).toMatch(/long\s+7\s+5\.10\s+0\.95\s+0\.00\s+0\.95\s+\$0\.057\s+off \(would save \$0\.030, 7 → 6 s\)/);
    expect(text).toContain('paid for nothing: $0.168 of $0.360 from scratch (47%) — silence 2 s $0.060, padding to the minimum 2.65 s $0.080, rounding up 0.95 s $0.029; speech 6.4 s $0.192');
  });
});

describe('trim: edges', () => {
  it('on a scene: cuts beyond the 0.15 s margin, bills fewer seconds, changes the key; stable across runs', async () => {
    const off = await planned(manifest('off.yaml', SCENES));
    const onFile = manifest('on.yaml', SCENES.replace('{ id: long, right: long.wav, seed: 2 }', '{ id: long, right: long.wav, seed: 2, trim: edges }'));
    const on = await planned(onFile);
    const again = await planned(onFile);
    const [offLong, onLong, againLong] = [off, on, again].map((p) => p.plan.episodes[0].scenes[1]);
    // speech 0.25–5.35 s → 0.10–5.50 s kept = 5.4 s, billed 6
    expect(onLong.tracks.right).toMatchObject({ kind: 'trimmed', startMs: 100, durationMs: 5400 });
    expect(onLong).toMatchObject({ videoSeconds: 5.4, billedSeconds: 6, estimateUsd: 0.18 });
    expect(onLong.waste.split).toEqual({ billedMs: 6000, speechMs: 5100, leadingSilenceMs: 150, trailingSilenceMs: 150, paddingMs: 0, roundingMs: 600 });
    expect(onLong.waste.trim).toMatchObject({ on: true, untrimmedBilledSeconds: 7, untrimmedUsd: 0.21, savedUsd: 0.03 });
    expect(onLong.key).not.toBe(offLong.key);
    expect(againLong.key).toBe(onLong.key);
    // The untouched scene keeps its key.
    expect(on.plan.episodes[0].scenes[0].key).toBe(off.plan.episodes[0].scenes[0].key);
  });

  it('from episode or top-level defaults, with a configurable margin; trim: none on a scene turns it off', async () => {
    const file = path.join(dir, 'defaults.yaml');
    writeFileSync(file, `version: 1
defaults: { image: two-people.png, trim: { edges: true, margin: 0.2 } }
episodes:
  - id: ep
    scenes:
      - { id: short, left: short.wav, seed: 1 }
      - { id: long, right: long.wav, seed: 2, trim: none }
  - id: ep2
    defaults: { trim: edges }
    scenes:
      - { id: long, right: long.wav, seed: 2 }
`);
    const { plan } = await planned(file);
    const [short, long] = plan.episodes[0].scenes;
    // meanwhile with a silent listener: both tracks cut to one window, 0.4–2.1 s
    expect(short.tracks.left).toMatchObject({ kind: 'trimmed', startMs: 400, durationMs: 1700 });
    expect(short.tracks.right).toEqual({ kind: 'silence', durationMs: 1700 });
    expect(short.waste.trim).toMatchObject({ on: true, marginMs: 200, savedUsd: 0 }); // still under the minimum
    expect(long.waste.trim.on).toBe(false);
    expect(plan.episodes[1].scenes[0].tracks.right).toMatchObject({ kind: 'trimmed', startMs: 100, durationMs: 5400 });
    expect(plan.totals.waste).toMatchObject({ trimSavedUsd: 0.03, trimPossibleUsd: 0.03 });
  });

  it('an invalid trim is a manifest error naming the place', async () => {
    const file = manifest('bad.yaml', SCENES.replace('seed: 2 }', 'seed: 2, trim: middle }'));
    await expect(planned(file)).rejects.toMatchObject({ code: 'E_MANIFEST' });
  });
});

describe('plan --explain: merge adjacent short scenes', () => {
  it('suggests one lines scene for adjacent scenes under the minimum sharing image, resolution and prompt, with the saving', async () => {
    const file = manifest('merge.yaml', `episodes:
  - id: ep
    scenes:
      - { id: cold-open, left: a32.wav }
      - { id: reply, right: b35.wav }
      - { id: long, right: long.wav }
      - { id: q, left: a32.wav }
      - { id: a, right: a32.wav, prompt: another room }
      - { id: both, left: a32.wav, right: b35.wav }
      - { id: x, left: a32.wav, right: b35.wav, order: left_right }
      - { id: y, right: short.wav }
      - { id: z, left: a32.wav, resolution: 720p }
`);
    const { plan, m } = await planned(file);
    const { mergeHints, describeMergeHint } = await import('../../pipeline/plan/merge-hints.ts');
    const hints = mergeHints(plan.episodes[0].scenes);
    // long (6.05 s) is over the minimum; q and a differ in prompt; both speak at once; x is 6.7 s; z is 720p.
    expect(hints.map((h) => h.scenes)).toEqual([['cold-open', 'reply']]);
    expect(describeMergeHint(hints[0])).toBe('cold-open + reply: $0.30 → $0.21 as one `lines` scene (6.70 s, billed 7 s; saves $0.09)');
    const text = planToText(plan, [], m.outputOf, { cwd: dir, explain: true });
    expect(text).toContain('  merge cold-open + reply: $0.30 → $0.21');
    expect(text).toContain('    lines: [{ left: "a32.wav" }, { right: "b35.wav" }]');
    const json = planToJson(plan, [], m.outputOf, { cwd: dir, explain: true });
    expect(json.episodes[0].merge_suggestions).toEqual([
      expect.objectContaining({ scenes: ['cold-open', 'reply'], apart_usd: 0.3, merged_usd: 0.21, saved_usd: 0.09, merged_billed_seconds: 7, all_cached: false }),
    ]);
    expect(planToJson(plan, [], m.outputOf, { cwd: dir }).episodes[0]).not.toHaveProperty('merge_suggestions');
  });

  it('merges longer runs up to the drift limit, and none on a free provider', async () => {
    const scenes = Array.from({ length: 4 }, (_, i) => `      - { id: s${i}, ${i % 2 ? 'right' : 'left'}: a32.wav }`).join('\n');
    const file = manifest('run4.yaml', `episodes:\n  - id: ep\n    scenes:\n${scenes}\n`);
    const { plan } = await planned(file);
    const { mergeHints } = await import('../../pipeline/plan/merge-hints.ts');
    // 4 × $0.15 apart; 12.8 s → 13 s = $0.39 merged
    expect(mergeHints(plan.episodes[0].scenes)).toEqual([expect.objectContaining({ scenes: ['s0', 's1', 's2', 's3'], apartUsd: 0.6, mergedUsd: 0.39 })]);
    // 20 × 3.2 s = 64 s: past the 60 s colour-drift length, so two runs (18 × 3.2 = 57.6 s, then 2)
    const many = Array.from({ length: 20 }, (_, i) => `      - { id: m${i}, left: a32.wav }`).join('\n');
    const long = await planned(manifest('run20.yaml', `episodes:\n  - id: ep\n    scenes:\n${many}\n`));
    expect(mergeHints(long.plan.episodes[0].scenes).map((h) => [h.scenes.length, h.mergedBilledSeconds])).toEqual([[18, 58], [2, 7]]);
    // The local renderer has no minimum: nothing is padded, nothing to merge.
    const local = await planned(file, undefined, PROVIDERS.local);
    expect(local.plan.episodes[0].scenes[0].waste.split.paddingMs).toBe(0);
    expect(mergeHints(local.plan.episodes[0].scenes)).toEqual([]);
  });
});
