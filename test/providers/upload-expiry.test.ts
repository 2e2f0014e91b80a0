/**
 * Upload URLs the provider no longer keeps. duologue remembers each file's
 * upload URL (in memory and in the cache database) for its own TTL; when the
 * provider has dropped one sooner, the submit (or price quote) naming it is
 * refused with a 400 and no task. The client must upload again and go on,
 * not fail the scene; and it must not pay twice for any key.
 */
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { fakeProviders } from '../helpers/fake-provider.ts';
import { billedFor, fakeProjects, manifestYaml, startRun } from '../helpers/money.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

const TTL_MS = 60_000;
const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';
const submitRequests = (fake: FakeWavespeed) => fake.requests.filter((r) => r.path === SUBMIT).length;

let tasks: PlannedScene[];
beforeAll(async () => {
  tasks = await plannedTasks(tinyProject().manifest);
});

describe('an upload URL expired at the provider (provider level)', () => {
  const setup = fakeProviders();

  it('the refused submit uploads its inputs again and is submitted once more; one task', async () => {
    let now = 0;
    const { fake, provider, render } = await setup({ uploadTtlMs: TTL_MS, clock: () => now });
    await render(tasks[0]); // uploads the image and both tones
    now += TTL_MS; // the provider drops them; the client's memo (24 h) still has them
    let notSubmitted = 0;
    const { predictionId } = await provider.submit(tasks[2], { onNotSubmitted: () => void notSubmitted++ }); // the same image and tone-2500ms
    expect(await provider.wait(predictionId, tasks[2])).toMatchObject({ status: 'completed' });
    expect(submitRequests(fake)).toBe(3); // the first task's, the refused one, the one that took
    expect(fake.submissions).toHaveLength(2);
    expect(notSubmitted).toBe(1); // the refusal was reported as "no task" before the second try
    const [first, second] = fake.submissions;
    expect(second.body.image).not.toBe(first.body.image);
    expect(second.body.right_audio).not.toBe(first.body.right_audio);
  });

  it('a refusal fresh uploads do not cure surfaces after one more try (inputs given as URLs)', async () => {
    const { fake, provider } = await setup();
    const task = { ...tasks[0], image: { ...tasks[0].image, location: `${fake.cdnUrl}/media/m999/gone.png` } };
    const error = await provider.submit(task).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_API', status: 400, message: expect.stringMatching(/400: .*image: cannot fetch .*no such upload/) });
    expect(submitRequests(fake)).toBe(2);
    expect(fake.submissions).toHaveLength(0);
  });
});

describe('an upload URL expired at the provider (engine, across runs)', () => {
  const project = fakeProjects();
  const a = '      - { id: a, left: tone-1s.wav, right: tone-2500ms.wav, seed: 1 }';
  const b = '      - { id: b, left: tone-1s.wav, seed: 2 }';
  const c = '      - { id: c, right: tone-2500ms.wav, seed: 3 }';

  it('a later run re-uploads what expired and renders; every key is paid exactly once', async () => {
    let now = 0;
    const { fake, manifest, cacheDir } = await project([a], { uploadTtlMs: TTL_MS, clock: () => now });
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.summary).toMatchObject({ rendered: 1, failed: 0 });

    now += TTL_MS; // a day later, say: the cache database still remembers the URLs
    writeFileSync(manifest, manifestYaml({ ep1: [a, b, c] }));
    const quotesBefore = fake.account.quotes.length;
    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.summary).toMatchObject({ rendered: 2, cached: 1, failed: 0, skipped: 0 });
    // The price quote (for b) met expired URLs, was refused and asked again with fresh uploads; c's
    // submit then met tone-2500ms's expired URL the same way. Neither refusal created a task.
    expect(fake.account.quotes.length - quotesBefore).toBe(2);
    expect(submitRequests(fake) - fake.submissions.length).toBe(1);
    expect(fake.submissions[1].body.image).not.toBe(fake.submissions[0].body.image);
    // One task per key, each billed once, and the run's books match the bill.
    expect(fake.submissions.map((s) => s.body.seed).sort()).toEqual([1, 2, 3]);
    expect(fake.charges.size).toBe(3);
    expect(second.summary.cost_usd).toBe(billedFor(fake, second.submitted));
  });
});
