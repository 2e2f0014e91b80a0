/**
 * Speech and video as one small DAG: a scene's video is submitted as soon as
 * its own lines are voiced, while another scene's speech is still being made,
 * under one budget (spent + reserved within the cap throughout the mixed
 * phase), and a kill -9 in that phase pays for nothing twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render } from '../../pipeline/run/render.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, renderChild, startFake, until } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

// The fake voices 14 characters a second and takes `msPerVideoSecond` per second of audio:
// "Hi." is ready at once, the long line some 6 s of audio later (1.8 s at 300 ms a second).
const LONG = 'This line is a good deal longer, so its speech takes the fake a good while to make.';
const LONG2 = 'This other line is also a good deal longer, so the fake takes its while with it too.';
const episode = (id: string, short: string, long: string) => `  - id: ${id}
    scenes:
      - { id: s1, left: { say: "${short}" } }
      - { id: s2, right: { say: "${long}" } }
`;
const manifest = (budget: string, ...episodes: string[]) => `version: 1
${budget}
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman }, right: { voice: Deep_Voice_Man } }
episodes:
${episodes.join('')}`;

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
const at = (events: RunEvent[], match: (e: RunEvent) => boolean) => events.findIndex(match);

describe('speech and video as one DAG', () => {
  it("a scene's video is submitted, with its exact figures, before another scene's speech is done; spent + reserved stays within the cap throughout", async () => {
    const fake = await startFake({ msPerVideoSecond: 300 });
    fakes.push(fake);
    // e1 is admitted on its bound (≈ $0.63: 1.5 s + 15 s of video bound, and its speech), e2 the same: both are over $0.70.
    const { manifest: file } = tinyProject(manifest('budget: 0.70', episode('e1', 'Hi.', LONG), episode('e2', 'Yo.', LONG2)));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-dag-'));
    const events: RunEvent[] = [];
    const bus = new RunEvents();
    bus.on('event', (e) => events.push(e));
    const running = render([file], { provider: 'wavespeed', apiKey: KEY, baseUrl: fake.apiUrl, policy: FAST_POLICY, leaseMs: 2_000, cacheDir, outDir: path.join(cacheDir, 'out'), events: bus, report: false, waitPollMs: 20, concurrency: 2 });
    // Once "Hi." is voiced, no prediction finishes until s1's video is submitted: proves the order whatever the machine's load.
    const speechOf = (text: string) => fake.speechSubmissions.find((s) => s.body.text === text);
    await until(() => fake.charges.has(speechOf('Hi.')?.id ?? ''), '"Hi." voiced');
    fake.hold();
    await until(() => fake.submissions.length === 1, "s1's video submitted");
    expect(fake.charges.has(speechOf(LONG)?.id ?? '')).toBe(false); // s2's speech is still being made
    fake.release();
    const result = await running;

    const videoS1 = at(events, (e) => e.type === 'submitted' && e.episode === 'e1' && e.scene === 's1');
    const speechS2 = at(events, (e) => e.type === 'speech' && e.episode === 'e1' && e.scene === 's2' && e.status === 'voiced');
    const videoS2 = at(events, (e) => e.type === 'submitted' && e.episode === 'e1' && e.scene === 's2');
    expect(videoS1).toBeGreaterThanOrEqual(0);
    expect(speechS2).toBeGreaterThan(videoS1); // not two passes: s1's video went while s2 was still being voiced
    expect(videoS2).toBeGreaterThan(speechS2);
    // Released with its exact figures (6 s of real speech), not the 15 s bound it was planned on.
    const queuedS2 = events.find((e): e is Of<'queued'> => e.type === 'queued' && e.episode === 'e1' && e.scene === 's2')!;
    expect(queuedS2.videoSeconds).toBeLessThan(8);
    expect(result.plan.episodes[0].scenes[1].pendingSpeech).toEqual([]);

    // The mixed phase has holds of both kinds, and every move stays within the cap.
    const spend = events.map((e, i) => ({ e, i })).filter((x): x is { e: Of<'spend'>; i: number } => x.e.type === 'spend');
    expect(spend.length).toBeGreaterThan(0);
    expect(spend.every(({ e }) => e.spentUsd + e.reservedUsd <= 0.7 + 1e-9)).toBe(true);
    // Before s2 is voiced, s1's video hold ($0.15: 5 s billed at least) sits beside s2's speech hold ($0.0042).
    expect(spend.some(({ e, i }) => i < speechS2 && e.reservedUsd >= 0.1542)).toBe(true);
    // e2 did not fit: none of its lines was voiced, none of its scenes submitted.
    expect(fake.speechSubmissions.map((s) => s.body.text).sort()).toEqual(['Hi.', LONG].sort());
    expect(fake.submissions).toHaveLength(2);
    const charged = [...fake.charges.values()].reduce((a, b) => a + b, 0);
    expect(charged).toBeLessThanOrEqual(0.7);
    expect(result.schedule.spentUsd).toBeCloseTo(charged, 6);
    expect(result.episodes.map((e) => e.status)).toEqual(['complete', 'incomplete']);
  });

  it('kill -9 after a scene is submitted while another is still voiced, then rerun: nothing is paid twice', async () => {
    const fake = await startFake({ msPerVideoSecond: 300 });
    fakes.push(fake);
    const { manifest: file } = tinyProject(manifest('', episode('e1', 'Hi.', LONG)));
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-dag-crash-'));
    const inFlightSpeech = () => {
      const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM renders WHERE key LIKE 'speech-%' AND status = 'in-flight' AND prediction_id IS NOT NULL").get() as { n: number }).n;
      } catch {
        return 0; // not created yet
      } finally {
        db.close();
      }
    };
    const first = renderChild({ manifest: file, cacheDir, baseUrl: fake.apiUrl, concurrency: 2 });
    // As above: once "Hi." is voiced nothing finishes, so the kill lands with s2's speech in flight, whatever the load.
    await until(() => fake.charges.has(fake.speechSubmissions.find((s) => s.body.text === 'Hi.')?.id ?? ''), '"Hi." voiced');
    fake.hold();
    await until(() => fake.submissions.length === 1 && inFlightSpeech() === 1, "s1's video submitted while s2's speech is in flight");
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    fake.release();

    const second = renderChild({ manifest: file, cacheDir, baseUrl: fake.apiUrl, concurrency: 2 });
    expect(await second.exit).toBe(0);
    expect(fake.speechSubmissions.map((s) => s.body.text).sort()).toEqual(['Hi.', LONG].sort()); // each line once
    expect(fake.submissions).toHaveLength(2); // each scene's video once: s1's was resumed
    expect(second.events.some((e) => e.type === 'resumed' && e.scene === 's1')).toBe(true);
  });
});

describe('the queue', () => {
  it('speech tasks go first: under one slot, a scene of audio files waits for the lines to be voiced', async () => {
    const { manifest: file } = tinyProject(`version: 1
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman } }
episodes:
  - id: e1
    scenes:
      - { id: files, left: tone-1s.wav }
      - { id: text, left: { say: "Said in a moment." } }
`);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-dag-queue-'));
    const events: RunEvent[] = [];
    const bus = new RunEvents();
    bus.on('event', (e) => events.push(e));
    const result = await render([file], { provider: 'local', cacheDir, outDir: path.join(cacheDir, 'out'), events: bus, report: false, concurrency: 1 });
    const voiced = at(events, (e) => e.type === 'speech' && e.status === 'voiced');
    const filesDone = at(events, (e) => e.type === 'done' && e.scene === 'files');
    expect(voiced).toBeGreaterThanOrEqual(0);
    expect(filesDone).toBeGreaterThan(voiced);
    expect(result.episodes[0].status).toBe('complete');
  });
});
