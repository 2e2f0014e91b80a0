/**
 * Output URLs answered by redirects to the file (a storage service behind the
 * link): the client follows a bounded number, and the key goes with a request
 * only to the API's own origin, never to where a redirect points.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlannedScene } from '../../pipeline/plan/index.ts';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { KEY } from '../helpers/engine.ts';
import { fakeProviders } from '../helpers/fake-provider.ts';
import { plannedTasks, tinyProject } from '../helpers/tasks.ts';

let task: PlannedScene;
beforeAll(async () => {
  [task] = await plannedTasks(tinyProject().manifest);
});
const setup = fakeProviders();

/** Requests for the output file itself (the redirects' end). */
const fileRequests = (fake: FakeWavespeed) => fake.requests.filter((r) => /^\/outputs\/[^/]+\.mp4$/.test(r.path));
const hops = (fake: FakeWavespeed) => fake.requests.filter((r) => r.path.startsWith('/redirect/'));

function keyInFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((p) => statSync(p).isFile() && readFileSync(p).includes(KEY));
}

describe('output redirects', () => {
  it('from the API origin to the CDN: followed; the key goes to the API origin only, never to the CDN', async () => {
    const { fake, render, out } = await setup({ outputRedirect: { from: 'api' } });
    const { clip } = await render(task);
    expect(clip!.durationSeconds).toBeCloseTo(3.5, 1);
    expect(hops(fake).map((r) => [r.origin, r.headers.authorization])).toEqual([['api', `Bearer ${KEY}`]]);
    // The redirected-to request carried no Authorization header, nor the key anywhere in its headers.
    expect(fileRequests(fake).map((r) => [r.origin, r.headers.authorization])).toEqual([['cdn', undefined]]);
    const cdn = fake.requests.filter((r) => r.origin === 'cdn');
    expect(JSON.stringify(cdn.map((r) => r.headers))).not.toContain(KEY);
    expect(keyInFiles(out)).toEqual([]);
  });

  it('a chain of relative redirects on the CDN is followed (up to the bound)', async () => {
    const { fake, render } = await setup({ outputRedirect: { from: 'cdn', hops: 5 } });
    const { clip } = await render(task);
    expect(clip!.bytes).toBeGreaterThan(0);
    expect(hops(fake).map((r) => r.path.split('/')[2])).toEqual(['5', '4', '3', '2', '1']);
    expect(fake.requests.filter((r) => r.origin === 'cdn').every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('more redirects than the bound: the download fails (no loop), saying so, without the key', async () => {
    const { fake, render, out } = await setup({ outputRedirect: { from: 'api', hops: 50 } });
    const error = (await render(task).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^\[GET\] output of ep1\/both: more than 5 redirects/);
    expect(error.message).not.toContain(KEY);
    expect(hops(fake)).toHaveLength(6); // the first request and five redirects followed
    expect(fake.requests.filter((r) => r.origin === 'cdn').every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(readdirSync(out)).toEqual([]); // nothing half-written
  });
});
