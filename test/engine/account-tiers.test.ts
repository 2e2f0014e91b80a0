import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RATE_LIMIT_WAIT, RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { render, type RenderOptions } from '../../pipeline/run/render.ts';
import { FAKE_LEVELS } from '../fakes/account-limits.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { FAST_POLICY } from '../helpers/fast-policy.ts';
import { KEY, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** A "minute", scaled down: both the fake's account level and duologue's limiter count in it. */
const MINUTE_MS = 600;

const FIVE_SCENES = `version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
${[1, 2, 3, 4, 5].map((n) => `      - { id: s${n}, left: tone-1s.wav, seed: ${n} }`).join('\n')}
`;

async function bronzeFake(retryAfter: 'fraction' | 'none' = 'fraction') {
  const fake = await startFake({ accountLimits: { videosPerWindow: FAKE_LEVELS.bronze.videosPerMinute, windowMs: MINUTE_MS, retryAfter }, maxConcurrent: FAKE_LEVELS.bronze.concurrent });
  fakes.push(fake);
  return fake;
}

async function run(fake: FakeWavespeed, extra: Partial<RenderOptions>, at = { manifest: tinyProject(FIVE_SCENES).manifest, cacheDir: mkdtempSync(path.join(tmpdir(), 'dl-tier-cache-')) }) {
  const { manifest, cacheDir } = at;
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('event', (e) => seen.push(e));
  await render([manifest], {
    provider: 'wavespeed',
    apiKey: KEY,
    baseUrl: fake.apiUrl,
    cacheDir,
    outDir: path.join(cacheDir, 'out'),
    policy: { ...FAST_POLICY, rateWindowMs: MINUTE_MS, retryAfterMaxMs: 5_000 },
    waitPollMs: 20,
    events,
    report: false,
    ...extra,
  });
  const summary = seen.find((e) => e.type === 'summary') as Extract<RunEvent, { type: 'summary' }>;
  return { seen, summary };
}

describe('account tiers (fake with Bronze limits, a minute scaled to 600 ms)', () => {
  it('--tier bronze: 5 scenes paced at 2 per minute, 2 at once; none fails, one task per key', async () => {
    const fake = await bronzeFake();
    const { seen, summary } = await run(fake, { tier: 'bronze' });
    expect(summary).toMatchObject({ rendered: 5, failed: 0, skipped: 0 });
    expect(fake.submissions).toHaveLength(5);
    expect(new Set(fake.submissions.map((s) => s.body.seed)).size).toBe(5);
    expect(fake.peakConcurrency).toBeLessThanOrEqual(2);
    const run0 = seen.find((e) => e.type === 'run') as Extract<RunEvent, { type: 'run' }>;
    expect(run0.concurrency).toBe(2); // the tier's tasks at once
  });

  it('auto, starting at --concurrency 4: the 429s it meets slow it down; none fails, one task per key', async () => {
    const fake = await bronzeFake();
    const { seen, summary } = await run(fake, { concurrency: 4 });
    expect(summary).toMatchObject({ rendered: 5, failed: 0, skipped: 0 });
    expect(fake.submissions).toHaveLength(5);
    expect(seen.filter((e) => e.type === 'failed')).toEqual([]);
    // The account's own limit refused starts (organic 429s, none scripted), and the run paced through them.
    expect(fake.limits!.refused).toBeGreaterThan(0);
    expect(seen.some((e) => e.type === 'waiting' && e.reason === RATE_LIMIT_WAIT)).toBe(true);
  });

  it('a 429 without Retry-After, many times over (past maxAttempts), still ends in one task per key', async () => {
    const fake = await bronzeFake('none');
    // Far more refusals than FAST_POLICY.maxAttempts (5): a 429 alone never fails a scene.
    fake.script('submit', ...Array.from({ length: 8 }, () => ({ kind: 'status' as const, status: 429 })));
    const { seen, summary } = await run(fake, { tier: 'bronze' });
    expect(summary).toMatchObject({ rendered: 5, failed: 0 });
    expect(fake.submissions).toHaveLength(5);
    expect(seen.some((e) => e.type === 'waiting' && e.reason === RATE_LIMIT_WAIT)).toBe(true);
  });

  it('still refused at the deadline: the scene fails as not submitted (nothing billed, not "maybe billed"); the next run submits it once', async () => {
    const fake = await bronzeFake();
    fake.script('submit', ...Array.from({ length: 1000 }, () => ({ kind: 'status' as const, status: 429, retryAfter: '0.05' })));
    const at = { manifest: tinyProject(FIVE_SCENES.split('\n').slice(0, 6).join('\n') + '\n').manifest, cacheDir: mkdtempSync(path.join(tmpdir(), 'dl-tier-cache-')) };
    const first = await run(fake, { tier: 'bronze', policy: { ...FAST_POLICY, rateWindowMs: MINUTE_MS, deadlineBaseMs: 400, deadlinePerVideoSecondMs: 0 } }, at);
    expect(first.summary).toMatchObject({ rendered: 0, failed: 1, cost_usd: 0 });
    const failed = first.seen.find((e) => e.type === 'failed') as Extract<RunEvent, { type: 'failed' }>;
    expect(failed.error).toMatch(/still rate limited \(429\) at the scene's deadline.*no task was created/);
    expect(fake.submissions).toHaveLength(0);
    // The account's limit has passed (a fresh fake without the refusals): the same cache submits it once.
    const later = await bronzeFake();
    const second = await run(later, { tier: 'bronze' }, at);
    expect(second.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(later.submissions).toHaveLength(1);
  });
});
