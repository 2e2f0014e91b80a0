/**
 * `trim: edges` end to end against the fake WaveSpeed, which bills by the
 * length of the audio it is sent (its own rule): the trimmed scene is billed
 * fewer seconds, the untrimmed one what it always was, and the run report
 * shows where each scene's billed seconds went.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../pipeline/report/run-report.ts';
import { ffmpeg } from '../helpers/engine.ts';
import { billedFor, fakeProjects, startRun } from '../helpers/money.ts';
import { wavWithSilences } from '../helpers/silences.ts';

const setup = fakeProjects();

describe('trim: edges on a run', () => {
  it('sends the trimmed track, is billed for it, and reports the waste per scene and in total', async () => {
    const { fake, manifest, cacheDir } = await setup(['      - { id: trimmed, right: long.wav, seed: 2, trim: edges }', '      - { id: whole, left: long.wav, seed: 3 }']);
    // 0.25 s lead, 5.1 s speech, 0.7 s tail = 6.05 s: billed 7 s whole, 6 s trimmed (5.4 s)
    await wavWithSilences(path.join(path.dirname(manifest), 'long.wav'), { leadMs: 250, speechMs: 5100, trailMs: 700 }, ffmpeg);
    const run = await startRun(manifest, cacheDir, fake, { report: true }).done;
    const bySeed = (seed: number) => run.submitted.filter((id) => fake.submissions.find((s) => s.id === id)?.body.seed === seed);
    expect(billedFor(fake, bySeed(2))).toBe(0.18);
    expect(billedFor(fake, bySeed(3))).toBe(0.21);

    const report = JSON.parse(readFileSync(path.join(cacheDir, 'out', 'report.json'), 'utf8')) as RunReport;
    const [trimmed, whole] = report.episodes[0].scenes;
    expect(trimmed.waste).toMatchObject({ billed_seconds: 6, speech_seconds: 5.1, leading_silence_seconds: 0.15, trailing_silence_seconds: 0.15, rounding_seconds: 0.6 });
    expect(trimmed.trim).toMatchObject({ edges: true, untrimmed_billed_seconds: 7, saved_usd: 0.03 });
    expect(whole.waste).toMatchObject({ billed_seconds: 7, leading_silence_seconds: 0.25, trailing_silence_seconds: 0.7, rounding_seconds: 0.95 });
    expect(whole.trim).toMatchObject({ edges: false, possible_saving_usd: 0.03 });
    expect(report.totals.waste).toMatchObject({ billed_seconds: 13, speech_seconds: 10.2, padding_seconds: 0, rounding_seconds: 1.55, trim_saved_usd: 0.03, trim_possible_usd: 0.03 });

    const html = readFileSync(path.join(cacheDir, 'out', 'report.html'), 'utf8');
    expect(html).toContain('$0.057<br><small>silence 0.95 s · rounding 0.95 s</small>');
    expect(html).toContain('$0.027<br><small>silence 0.3 s · rounding 0.6 s</small>');

    // A second run hits both: the trimmed key is stable across runs.
    const again = await startRun(manifest, cacheDir, fake, { report: true }).done;
    expect(again.submitted).toEqual([]);
    const second = JSON.parse(readFileSync(path.join(cacheDir, 'out', 'report.json'), 'utf8')) as RunReport;
    expect(second.totals).toMatchObject({ cached: 2, waste: { billed_seconds: 0 }, waste_from_scratch: { billed_seconds: 13 } });
  });
});
