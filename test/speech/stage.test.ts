/**
 * Speech as a stage of the run, end to end through render(): cached by its
 * inputs (one changed line re-voices that line and re-renders its scene
 * only), under the budget with estimated lengths, never paid twice.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render, type RenderOptions } from '../../pipeline/run/render.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const script = (line3: string, budget = '') => `version: 1
${budget}
defaults: { image: two-people.png }
cast:
  left: { voice: Wise_Woman }
  right: { voice: Deep_Voice_Man }
episodes:
  - id: e1
    scenes:
      - id: s1
        lines:
          - left: { say: "Hello there, how are you today?" }
          - right: { say: "Fine, thank you." }
      - id: s2
        lines:
          - left: { say: "${line3}" }
`;

async function run(manifest: string, cacheDir: string, extra: Partial<RenderOptions> = {}) {
  const events: RunEvent[] = [];
  const bus = new RunEvents();
  bus.on('event', (e) => events.push(e));
  const result = await render([manifest], { provider: 'local', cacheDir, outDir: path.join(cacheDir, 'out'), events: bus, report: false, waitPollMs: 20, ...extra });
  const speech = events.filter((e): e is Extract<RunEvent, { type: 'speech' }> => e.type === 'speech');
  const done = events.filter((e): e is Extract<RunEvent, { type: 'done' }> => e.type === 'done').map((e) => e.scene);
  return { result, events, speech, done };
}
const byStatus = (speech: Extract<RunEvent, { type: 'speech' }>[], status: string) => speech.filter((s) => s.status === status).map((s) => `${s.scene}:${s.line}`).sort();

describe('the speech stage', () => {
  it('renders a script with no audio files; one changed line re-voices that line and re-renders its scene only; unchanged costs nothing', async () => {
    const { dir, manifest } = tinyProject(script('See you later.'));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-cache-'));
    const first = await run(manifest, cacheDir);
    expect(byStatus(first.speech, 'voiced')).toEqual(['s1:1', 's1:2', 's2:1']);
    expect(first.done.sort()).toEqual(['s1', 's2']);
    expect(first.result.episodes[0].status).toBe('complete');

    writeFileSync(path.join(dir, 'show.yaml'), script('See you tomorrow, then.'));
    const second = await run(manifest, cacheDir);
    expect(byStatus(second.speech, 'voiced')).toEqual(['s2:1']);
    expect(second.done).toEqual(['s2']);
    expect(second.result.schedule.scenes.find((s) => s.scene.sceneId === 's1')?.outcome).toBe('cached');
    expect(second.result.episodes[0].status).toBe('complete');

    const third = await run(manifest, cacheDir);
    expect(third.speech).toEqual([]); // nothing left to voice: every line was a cached file before planning
    expect(third.done).toEqual([]);
    expect(third.result.schedule.spentUsd).toBe(0);
  });

  it('wavespeed: the budget holds with estimated lengths (speech + video under the cap); an episode that does not fit is not even voiced', async () => {
    const fake = await startFake();
    fakes.push(fake);
    // e1 holds up to $0.21 of video (its line's bound: 31 chars at 6/s + 1 s → 7 s billed) + $0.0016 of speech;
    // e2 the same: together over $0.30, so e2 is skipped whole, its line never voiced.
    const { manifest } = tinyProject(`version: 1
budget: 0.30
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman } }
episodes:
  - id: e1
    scenes: [{ id: s1, left: { say: "Hello there, how are you today?" } }]
  - id: e2
    scenes: [{ id: s1, left: { say: "Another line, another episode." } }]
`);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-cache-'));
    const opts = { provider: 'wavespeed' as const, apiKey: KEY, baseUrl: fake.apiUrl, policy: FAST_POLICY, leaseMs: 2_000 };
    const first = await run(manifest, cacheDir, { ...opts, report: true });
    expect(fake.speechSubmissions.map((s) => s.body.text)).toEqual(['Hello there, how are you today?']);
    // The report: per line its text, voice and speech cost; speech and video spend apart, adding up to the invoice.
    const report = JSON.parse(readFileSync(path.join(cacheDir, 'out', 'report.json'), 'utf8'));
    const speechCharge = fake.charges.get(fake.speechSubmissions[0].id)!;
    expect(report.speech).toEqual([
      expect.objectContaining({ episode: 'e1', text: 'Hello there, how are you today?', voice: 'Wise_Woman', status: 'voiced', cost_usd: speechCharge }),
      expect.objectContaining({ episode: 'e2', text: 'Another line, another episode.', voice: 'Wise_Woman', status: 'skipped', cost_usd: 0 }),
    ]);
    expect(report.totals.speech_usd).toBe(speechCharge);
    expect(report.totals.video_usd).toBe(fake.charges.get(fake.submissions[0].id));
    expect(fake.submissions).toHaveLength(1);
    const charged = [...fake.charges.values()].reduce((a, b) => a + b, 0);
    expect(charged).toBeLessThanOrEqual(0.3);
    expect(first.result.schedule.spentUsd).toBeCloseTo(charged, 6); // the run's books match the invoice: speech + video
    expect(byStatus(first.speech, 'skipped')).toEqual(['s1:1']);
    expect(first.result.episodes.map((e) => e.status)).toEqual(['complete', 'incomplete']);
    const spend = first.events.filter((e) => e.type === 'spend').map((e) => (e as { spentUsd: number; reservedUsd: number }));
    expect(spend.every((s) => s.spentUsd + s.reservedUsd <= 0.3 + 1e-9)).toBe(true);

    // Again (a new run, a new $0.30): e1 is cached whole (speech and video), e2 now fits; nothing is paid twice.
    const second = await run(manifest, cacheDir, opts);
    expect(fake.speechSubmissions.map((s) => s.body.text)).toEqual(['Hello there, how are you today?', 'Another line, another episode.']);
    expect(fake.submissions).toHaveLength(2);
    expect(second.result.schedule.scenes.find((s) => s.scene.episodeId === 'e1')?.outcome).toBe('cached');
    expect(second.result.episodes.map((e) => e.status)).toEqual(['complete', 'complete']);
  });

  it('wavespeed: a speech submit whose answer is lost is held (maybe billed): its scene is not rendered, and no later run sends it again', async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.script('speech', { kind: 'lost-answer' });
    const { manifest } = tinyProject(script('See you later.'));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-cache-'));
    const opts = { provider: 'wavespeed' as const, apiKey: KEY, baseUrl: fake.apiUrl, policy: FAST_POLICY, leaseMs: 2_000, concurrency: 1 };
    const first = await run(manifest, cacheDir, opts);
    const held = byStatus(first.speech, 'held');
    expect(held).toHaveLength(1);
    const heldScene = held[0].split(':')[0];
    expect(first.done).not.toContain(heldScene);
    expect(first.result.schedule.scenes.find((s) => s.scene.sceneId === heldScene)?.outcome).toBe('skipped');
    const sent = fake.speechSubmissions.length;
    expect(sent).toBe(3);

    const second = await run(manifest, cacheDir, opts);
    expect(byStatus(second.speech, 'held')).toEqual(held);
    expect(fake.speechSubmissions).toHaveLength(sent); // never resent
    expect(second.result.episodes[0].status).toBe('incomplete');
  });

  it('wavespeed: a failed speech prediction is not billed, its scene is skipped, the next run voices it', async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.script('speech', { kind: 'fail', error: 'voice busy', code: 5000 });
    const { manifest } = tinyProject(script('See you later.'));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-cache-'));
    const opts = { provider: 'wavespeed' as const, apiKey: KEY, baseUrl: fake.apiUrl, policy: FAST_POLICY, leaseMs: 2_000, concurrency: 1 };
    const first = await run(manifest, cacheDir, opts);
    expect(byStatus(first.speech, 'failed')).toHaveLength(1);
    expect(first.result.episodes[0].status).toBe('incomplete');
    const second = await run(manifest, cacheDir, opts);
    expect(byStatus(second.speech, 'voiced')).toHaveLength(1);
    expect(second.result.episodes[0].status).toBe('complete');
    expect(fake.speechSubmissions).toHaveLength(4);
  });
});
