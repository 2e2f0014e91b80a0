import { describe, expect, it } from 'vitest';
import { isAbort } from '../../pipeline/errors.ts';
import { createLocalPool } from '../../pipeline/stitch/pool.ts';

/** A job that runs until the test ends it. */
function job(log: string[], name: string) {
  let end!: () => void;
  const done = new Promise<void>((r) => (end = r));
  return { run: async () => { log.push(`start ${name}`); await done; log.push(`end ${name}`); }, end };
}

describe('local ffmpeg pool', () => {
  it('runs at most `size` at once; a waiting stitch goes ahead of waiting conforms', async () => {
    const log: string[] = [];
    const pool = createLocalPool({ size: 1 });
    const [c1, c2, s1] = [job(log, 'c1'), job(log, 'c2'), job(log, 's1')];
    const p1 = pool.run('conform', c1.run);
    const p2 = pool.run('conform', c2.run);
    const p3 = pool.run('stitch', s1.run);
    await Promise.resolve();
    expect(log).toEqual(['start c1']);
    c1.end();
    await p1;
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start c1', 'end c1', 'start s1']);
    s1.end();
    await p3;
    c2.end();
    await p2;
    expect(log).toEqual(['start c1', 'end c1', 'start s1', 'end s1', 'start c2', 'end c2']);
  });

  it('after an abort, what has not started never starts (it rejects as aborted); what runs is left to its own signal', async () => {
    const log: string[] = [];
    const stop = new AbortController();
    const pool = createLocalPool({ size: 1, signal: stop.signal });
    const running = job(log, 'running');
    const p1 = pool.run('conform', running.run);
    const p2 = pool.run('stitch', async () => log.push('never'));
    await Promise.resolve();
    stop.abort();
    running.end();
    await p1;
    const error = await p2.catch((e: unknown) => e);
    expect(isAbort(error)).toBe(true);
    expect(log).toEqual(['start running', 'end running']);
  });

  it('refuses a size that is not a whole number from 1 up, naming it', () => {
    expect(() => createLocalPool({ size: 0 })).toThrow(/`size`.*got `0`/);
  });
});
