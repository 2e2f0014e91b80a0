/**
 * A failed prediction's code decides what happens next: the provider's own
 * trouble is tried once more in the run, an input it could not fetch is
 * uploaded again and tried once more, and a scene refused for what it is
 * (moderation, bad input) is not tried again until it changes.
 */
import { describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const project = fakeProjects();
const setup = () => project([sceneYaml('a', 2.5, 1)]);

const uploads = (fake: FakeWavespeed) => fake.requests.filter((r) => r.path === '/api/v3/media/upload/binary').length;

describe('failed predictions by their code', () => {
  it('server side (5003): tried once more in the same run; only the completed one is billed', async () => {
    const { fake, manifest, cacheDir } = await setup();
    fake.script('submit', { kind: 'fail', error: 'worker lost', code: 5003 });
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.summary).toMatchObject({ rendered: 1, failed: 0 });
    expect(fake.submissions).toHaveLength(2);
    expect(run.summary.cost_usd).toBe(fake.chargedUsd);
    expect(run.seen).toContainEqual(expect.objectContaining({ type: 'warning', message: expect.stringMatching(/server error 5003.*trying once more/) }));
  });

  it('a media URL it could not fetch (1402): the inputs are uploaded again, then tried once more', async () => {
    const { fake, manifest, cacheDir } = await setup();
    fake.script('submit', { kind: 'fail', error: 'could not download image', code: 1402 });
    const run = await startRun(manifest, cacheDir, fake).done;
    expect(run.summary).toMatchObject({ rendered: 1, failed: 0 });
    const [first, second] = fake.submissions;
    expect(second.body.image).not.toBe(first.body.image); // a fresh upload
    expect(uploads(fake)).toBeGreaterThanOrEqual(4);
  });

  it('moderation (1200): refused; not submitted again by later runs until the scene changes, or --retry-held', async () => {
    const { fake, manifest, cacheDir } = await setup();
    fake.script('submit', { kind: 'fail', error: 'content flagged', code: 1200 });
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', code: 'E_REFUSED', error: expect.stringMatching(/\[moderation error 1200\] — refused for its content/) });
    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', code: 'E_REFUSED' });
    expect(fake.submissions).toHaveLength(1);
    const forced = await startRun(manifest, cacheDir, fake, { retryHeld: true }).done;
    expect(forced.summary.rendered).toBe(1);
    expect(fake.submissions).toHaveLength(2);
  });

  it('a 402 (no money) on the retry after a server failure: nothing more is submitted, nothing is booked that was not billed', async () => {
    const { fake, manifest, cacheDir } = await project([sceneYaml('a', 2.5, 1), sceneYaml('b', 2.5, 2), sceneYaml('c', 2.5, 3)]);
    fake.script('submit', { kind: 'fail', error: 'worker lost', code: 5003 }, { kind: 'status', status: 402, body: JSON.stringify({ code: 402, message: 'insufficient balance' }) });
    const run = await startRun(manifest, cacheDir, fake, { concurrency: 1 }).done;
    expect(fake.submissions).toHaveLength(1); // the failed one; nothing after the 402
    expect(run.summary.cost_usd).toBe(fake.chargedUsd);
    expect(run.result.schedule.scenes.map((x) => x.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
  });
});
