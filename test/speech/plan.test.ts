/** Planning lines not voiced yet (pure parts): estimates, the bound the budget holds, speech priced once. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifests } from '../../pipeline/manifest/load.ts';
import type { MediaFacts } from '../../pipeline/media/facts.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { speechInfoFor } from '../../pipeline/providers/speech-info.ts';
import { resolveSpeech } from '../../pipeline/run/speech.ts';
import { estimateLength } from '../../pipeline/speech/estimate.ts';

const LINE = 'x'.repeat(60); // 60 characters: $0.003 at HD; estimated 60/14 = 4.286 s, bound 60/6 + 1 = 11 s

async function planned(budget: number, spentUsd?: Map<string, number>, unvoiced?: 'estimate' | 'skip') {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-sp-plan-'));
  const file = path.join(dir, 'm.yaml');
  writeFileSync(
    file,
    `version: 1
budget: ${budget}
defaults: { image: a.png }
cast: { left: { voice: Wise_Woman }, right: { voice: Calm_Woman } }
episodes:
  - id: e1
    scenes:
      - { id: s1, lines: [{ left: { say: "${LINE}" } }, { right: { say: "${LINE}" } }] }
      - { id: s2, left: { say: "${LINE}" } }
  - id: e2
    scenes:
      - { id: s1, left: { say: "${LINE}" } }
`,
  );
  const { series, diagnostics } = await readManifests([file]);
  expect(diagnostics).toEqual([]);
  const voiced = await resolveSpeech(series, { info: speechInfoFor('wavespeed'), renders: { getMany: async () => new Map() }, clipsDir: dir });
  const media = new Map<string, MediaFacts>(voiced.pendingFacts);
  media.set(path.join(dir, 'a.png'), { kind: 'image', sha256: 'img', localPath: path.join(dir, 'a.png'), width: 640, height: 360 });
  return { voiced, plan: plan({ series: voiced.series, media, provider: PROVIDERS.wavespeed, speechSpentByEpisode: spentUsd, unvoiced }) };
}

describe('planning lines written as text', () => {
  it('estimates from the text, plans the video on the bound, prices each distinct line once', async () => {
    const { voiced, plan: p } = await planned(100);
    // Left and right say the same words in different voices: two keys; e1/s2 and e2/s1 repeat e1's left line: one key.
    expect(voiced.jobs).toHaveLength(2);
    expect(voiced.jobs.find((j) => j.task.spec.voice === 'Wise_Woman')?.uses).toHaveLength(3);
    const [e1, e2] = p.episodes;
    const s1 = e1.scenes[0];
    expect(estimateLength({ text: LINE, voice: 'v', model: 'm', speed: 1, volume: 1, pitch: 0 })).toMatchObject({ ms: 4286, maxMs: 11_000 });
    expect(s1.pendingSpeech.map((x) => [x.usd, x.ms, x.maxMs])).toEqual([[0.003, 4286, 11_000], [0.003, 4286, 11_000]]);
    expect(s1.videoSeconds).toBe(22); // a dialogue scene's bound: both lines' bounds, back to back
    expect(e1.speechUsd).toBe(0.006); // two keys, voiced by e1
    expect(e2.speechUsd).toBe(0); // its line is e1's
    expect(p.totals).toMatchObject({ speechUsd: 0.006, estimated: 3 });
    expect(e1.neededMaxUsd).toBeCloseTo(s1.maxUsd + e1.scenes[1].maxUsd + 0.006, 10);
  });

  it('admission holds speech + the video bound; money already spent (the speech stage) counts in the cap', async () => {
    const { plan: all } = await planned(100);
    const e1Max = all.episodes[0].neededMaxUsd;
    const { plan: tight } = await planned(e1Max); // exactly e1: e2 must not fit beside it
    expect(tight.episodes.map((e) => e.admitted)).toEqual([true, false]);
    const { plan: spent } = await planned(e1Max, new Map([['e1', 0.01]]));
    expect(spent.episodes[0].admitted).toBe(false); // e1 no longer fits beside what was spent
    expect(spent.episodes[1].admitted).toBe(true); // a later, cheaper one still may (its line's speech now priced there)
    expect(spent.episodes[1].speechUsd).toBe(0.003);
    expect(spent.budgets[0].reservedUsd).toBeCloseTo(0.01 + spent.episodes[1].neededMaxUsd, 10);
    expect(spent.budgets[0].reservedUsd).toBeLessThanOrEqual(e1Max);
  });

  it('after the speech stage, a scene whose line is still text is skipped, never rendered', async () => {
    const { plan: p } = await planned(100, undefined, 'skip');
    expect(p.episodes.flatMap((e) => e.scenes).map((s) => [s.action, s.skipReason])).toEqual([
      ['skip', 'a line was not voiced'],
      ['skip', 'a line was not voiced'],
      ['skip', 'a line was not voiced'],
    ]);
    expect(p.totals.costUsd).toBe(0);
  });

  it("learns a voice's speaking rate from its cached speech (the estimate), never the bound", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-sp-plan-'));
    const file = path.join(dir, 'm.yaml');
    writeFileSync(file, `version: 1
defaults: { image: a.png }
cast: { left: { voice: Wise_Woman }, right: { voice: Calm_Woman } }
episodes:
  - id: e1
    scenes: [{ id: s1, lines: [{ left: { say: "${'y'.repeat(40)}" } }, { right: { say: "${LINE}" } }] }]
  - id: e2
    scenes: [{ id: s1, left: { say: "${LINE}" } }]
`);
    const { series } = await readManifests([file]);
    const info = speechInfoFor('wavespeed');
    const first = await resolveSpeech(series, { info, renders: { getMany: async () => new Map() }, clipsDir: dir });
    const known = first.jobs.find((j) => j.task.spec.text === 'y'.repeat(40))!;
    // That line was voiced before in 2 s (20 chars/s); its clip is not here, but its row says how fast the voice speaks.
    const row = { key: known.task.key, status: 'complete', video_seconds: 2, inputs: JSON.stringify(known.inputs), clip_path: null, clip_bytes: 1 };
    const again = await resolveSpeech(series, { info, renders: { getMany: async () => new Map([[row.key, row as never]]) }, clipsDir: dir });
    const facts = [...again.pendingFacts.values()].map((f) => (f.kind === 'audio' ? f.pending : undefined));
    const wise = facts.find((p) => p?.key !== known.task.key && again.jobs.find((j) => j.task.key === p?.key)?.task.spec.voice === 'Wise_Woman');
    const calm = facts.find((p) => again.jobs.find((j) => j.task.key === p?.key)?.task.spec.voice === 'Calm_Woman');
    expect(wise).toMatchObject({ charsPerSecond: 20, learned: true, ms: 3000 });
    expect(calm).toMatchObject({ charsPerSecond: 14, learned: false });
    const wiseFacts = [...again.pendingFacts.values()].find((f) => f.kind === 'audio' && f.pending?.key === wise?.key);
    expect(wiseFacts).toMatchObject({ durationMs: 11_000 }); // the bound does not trust the learned rate
  });
});
