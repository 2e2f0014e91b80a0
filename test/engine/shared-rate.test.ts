import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FAKE_LEVELS } from '../fakes/account-limits.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { renderChild, startFake } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

/** A "minute", scaled down: the fake's account level and every process's limiter count in it. */
const MINUTE_MS = 600;

const SIX_SCENES = `version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    scenes:
${[1, 2, 3, 4, 5, 6].map((n) => `      - { id: s${n}, left: tone-1s.wav, seed: ${n} }`).join('\n')}
`;

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

it('three processes on one cache, --tier bronze: the account sees no 429, and every key is submitted once', async () => {
  const fake = await startFake({
    accountLimits: { videosPerWindow: FAKE_LEVELS.bronze.videosPerMinute, windowMs: MINUTE_MS, retryAfter: 'fraction' },
    maxConcurrent: FAKE_LEVELS.bronze.concurrent,
  });
  fakes.push(fake);
  const { manifest } = tinyProject(SIX_SCENES);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-shared-rate-'));
  const children = [0, 1, 2].map(() => renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl, tier: 'bronze', rateWindowMs: MINUTE_MS }));
  const codes = await Promise.all(children.map((c) => c.exit));
  expect(codes).toEqual([0, 0, 0]);
  // Each process alone keeps to 2 per minute; only the shared window keeps all three to 2 together.
  expect(fake.limits!.refused).toBe(0);
  expect(fake.submissions).toHaveLength(6);
  expect(new Set(fake.submissions.map((s) => s.body.seed)).size).toBe(6);
}, 60_000);
