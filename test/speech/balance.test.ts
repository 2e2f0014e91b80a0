/**
 * The account's balance is a second cap (issue 11), read before the first
 * paid submit of any kind: speech included, and covering each episode's
 * speech and its video's upper bound.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render } from '../../pipeline/run/render.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const ONE = `version: 1
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman } }
episodes:
  - id: e1
    scenes: [{ id: s1, left: { say: "Hello there, how are you today?" } }]
`;

describe('the balance and the live price with lines written as text', () => {
  it('is read before the first speech submit, and an episode whose speech and video bound it cannot pay is not even voiced', async () => {
    const fake = await startFake();
    fakes.push(fake);
    // Each episode holds up to ≈ $0.21 (7 s of video bound at $0.03, and $0.0016 of speech): $0.30 pays for one.
    fake.account.balanceUsd = 0.3;
    const { manifest } = tinyProject(`version: 1
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman } }
episodes:
  - id: e1
    scenes: [{ id: s1, left: { say: "Hello there, how are you today?" } }]
  - id: e2
    scenes: [{ id: s1, left: { say: "Another line, another episode." } }]
`);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-bal-'));
    const events: RunEvent[] = [];
    const bus = new RunEvents();
    bus.on('event', (e) => events.push(e));
    const result = await render([manifest], { provider: 'wavespeed', apiKey: KEY, baseUrl: fake.apiUrl, policy: FAST_POLICY, leaseMs: 2_000, cacheDir, outDir: path.join(cacheDir, 'out'), events: bus, report: false, waitPollMs: 20 });

    const paths = fake.requests.filter((r) => r.origin === 'api').map((r) => `${r.method} ${r.path}`);
    const balance = paths.indexOf('GET /api/v3/balance');
    const firstSpeech = paths.findIndex((p) => p.startsWith('POST /api/v3/minimax/'));
    expect(balance).toBeGreaterThanOrEqual(0);
    expect(firstSpeech).toBeGreaterThan(balance);
    expect(fake.speechSubmissions.map((s) => s.body.text)).toEqual(['Hello there, how are you today?']);
    expect(fake.submissions).toHaveLength(1);
    expect(result.plan.episodes.map((e) => e.skipReason?.split(':')[0])).toEqual([undefined, 'over balance']);
    expect(result.episodes.map((e) => e.status)).toEqual(['complete', 'incomplete']);
    const spend = events.filter((e): e is Extract<RunEvent, { type: 'spend' }> => e.type === 'spend');
    expect(spend.every((s) => s.spentUsd + s.reservedUsd <= 0.3 + 1e-9)).toBe(true);
  });

  it('a price that differs, for scenes that waited for their speech, is checked before their video submit: nothing is paid at it; the next run stops before any spend', async () => {
    const fake = await startFake();
    fakes.push(fake);
    fake.account.priceFactor = 1.5;
    const { manifest } = tinyProject(ONE);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-price-'));
    const events: RunEvent[] = [];
    const bus = new RunEvents();
    bus.on('event', (e) => events.push(e));
    const opts = { provider: 'wavespeed' as const, apiKey: KEY, baseUrl: fake.apiUrl, policy: FAST_POLICY, leaseMs: 2_000, cacheDir, outDir: path.join(cacheDir, 'out'), report: false, waitPollMs: 20 };
    const result = await render([manifest], { ...opts, events: bus });
    expect(fake.speechSubmissions).toHaveLength(1); // speech is priced per character, not by this quote
    expect(fake.submissions).toHaveLength(0);
    expect(result.schedule.scenes[0]).toMatchObject({ outcome: 'skipped', error: expect.stringContaining('live price differs') });
    expect(events.some((e) => e.type === 'warning' && e.message.includes('WaveSpeed quotes'))).toBe(true);
    // Its line is voiced now: the quote is asked up front, and the run stops before spending.
    await expect(render([manifest], opts)).rejects.toMatchObject({ code: 'E_PRICE' });
    expect(fake.submissions).toHaveLength(0);
  });
});
