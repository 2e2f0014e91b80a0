import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { RunEvents, type RunEvent } from '../../pipeline/events.ts';
import { plan } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import type { Provider } from '../../pipeline/providers/types.ts';
import { schedule, type ScheduleOptions } from '../../pipeline/schedule/index.ts';
import { episode, media, ref, scene, series } from '../helpers/series.ts';

/** Delivers every task at once: only the order the scheduler submits in is under test. */
function instantProvider(dir: string): Provider {
  let n = 0;
  return {
    info: PROVIDERS.local,
    submit: async () => ({ predictionId: `p-${++n}` }),
    poll: async () => ({ status: 'processing' }),
    wait: async () => ({ status: 'completed', outputUrl: 'sim://clip' }),
    download: async (_r, task) => {
      const file = path.join(dir, `${task.key}.mp4`);
      writeFileSync(file, task.key);
      return { path: file, bytes: task.key.length, durationSeconds: task.videoSeconds };
    },
  };
}

async function submitted(order: ScheduleOptions['order']): Promise<string[]> {
  // Two episodes of 3–6 s scenes, their lengths shifted: longest first across the run alternates them.
  const lengths = [[6, 3, 5, 4], [3, 6, 4, 5]];
  const m = media(Object.fromEntries(lengths.flatMap((eps, e) => eps.map((s, i) => [`a${e}${i}`, s * 1000]))));
  const eps = lengths.map((eps, e) => episode(`ep${e + 1}`, eps.map((_, i) => scene(`ep${e + 1}`, `s${i + 1}`, { audio: { form: 'pair', left: ref(`a${e}${i}`) }, seed: { kind: 'fixed', value: e * 10 + i } }))));
  const p = plan({ series: series(eps), media: m, provider: PROVIDERS.local });
  const store = await openStore({ dir: ':memory:', owner: 'test:1:order' });
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-order-wiring-'));
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('event', (e) => seen.push(e));
  await schedule({ plan: p, provider: instantProvider(dir), store, runId: await store.ledger.start({ provider: 'local', args: [], plannedUsd: 0 }), events, clipsDir: dir, concurrency: 2, order });
  await store.close();
  return seen.flatMap((e) => (e.type === 'queued' ? [`${e.episode}/${e.scene}`] : []));
}

describe('the scheduler submits in the episode order', () => {
  it('by default episode by episode, longest first within each; `lpt` alternates the episodes by length', async () => {
    expect(await submitted(undefined)).toEqual(['ep1/s1', 'ep1/s3', 'ep1/s4', 'ep1/s2', 'ep2/s2', 'ep2/s4', 'ep2/s3', 'ep2/s1']);
    expect(await submitted('lpt')).toEqual(['ep1/s1', 'ep2/s2', 'ep1/s3', 'ep2/s4', 'ep1/s4', 'ep2/s3', 'ep1/s2', 'ep2/s1']);
  });
});
