/**
 * A submit refused outright (400/422) created no task. When its inputs are
 * then uploaded afresh for a second submit, a Ctrl-C during that upload is a
 * clean stop: nothing was billed, so the run is charged nothing and the next
 * run submits without first hunting the prediction list for a lost task.
 * The refusal was only recorded once the second submit started, so the stop
 * was booked as a maybe-billed submit (the run charged its whole hold).
 */
import { expect, it } from 'vitest';
import { fakeProjects, manifestYaml, sceneYaml, startRun } from '../helpers/money.ts';
import { tinyProject } from '../helpers/tasks.ts';

const setup = fakeProjects();

it('Ctrl-C while re-uploading the inputs of a refused submit: charged nothing, the next run submits without a lost-answer look', async () => {
  const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 1)]);
  // A first run leaves the media's upload URLs in the cache, so the next scene submits without uploading.
  expect((await startRun(manifest, cacheDir, fake).done).summary.rendered).toBe(1);

  const { manifest: next } = tinyProject(manifestYaml({ ep1: [sceneYaml('b', 2.5, 2)] }));
  fake.script('submit', { kind: 'status', status: 400, body: JSON.stringify({ code: 400, message: 'image: cannot fetch the upload' }) });
  fake.script('upload', { kind: 'slow', ms: 5_000 }); // the image goes first, alone
  const uploads = fake.routeCounts.upload;
  const stop = new AbortController();
  const run = startRun(next, cacheDir, fake, { signal: stop.signal });
  while (fake.routeCounts.upload === uploads) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  const stopped = await run.done;
  expect(stopped.summary.interrupted).toBe(true);
  expect(fake.routeCounts.submit).toBe(2); // the first run's, and the refused one
  expect(stopped.summary.cost_usd).toBe(0);

  const again = await startRun(next, cacheDir, fake).done;
  expect(again.summary.rendered).toBe(1);
  expect(again.seen.filter((e) => e.type === 'progress' && /lost/.test(e.status))).toEqual([]);
  expect(fake.submissions).toHaveLength(2);
});
