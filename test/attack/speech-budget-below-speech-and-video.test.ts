/**
 * Attack (issue 14): `--budget` that pays for an episode's speech but not
 * for its video's upper bound. Episodes are admitted whole (speech plus the
 * video's bound): an episode that does not fit voices nothing (no speech
 * bought for a video that cannot be paid), a later cheaper one still fits,
 * and spent + reserved never passes the cap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { startFake } from '../helpers/engine.ts';
import { events, fakeEnv, scriptProject } from '../helpers/script-project.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const long = 'This line goes on for a while, so that its scene runs well past the five second minimum. '.repeat(3);

describe('attack: a budget below speech + video', () => {
  it('an episode whose video bound does not fit voices nothing; a cheaper one after it still renders', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    const p = scriptProject([[long, long], ['Short.', 'Yes.']]);
    const cli = await runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--json', '--no-report', '--budget', '0.5'], fakeEnv(f));
    expect(cli.code).toBe(1);
    // ep1's speech costs ~$0.03 (fits), its video's bound does not: not one of its lines is voiced.
    expect(f.speechSubmissions.map((s) => s.body.text)).toEqual(expect.arrayContaining(['Short.', 'Yes.']));
    expect(f.speechSubmissions).toHaveLength(2);
    expect(f.submissions).toHaveLength(1);
    expect(f.chargedUsd).toBeLessThanOrEqual(0.5);
    const seen = events(cli.stdout);
    for (const s of seen.filter((e) => e.type === 'spend') as { reservedUsd: number; spentUsd: number }[]) expect(s.reservedUsd + s.spentUsd).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(seen.find((e) => e.type === 'summary')).toMatchObject({ rendered: 1, skipped: 1, episodes: [{ id: 'ep1', status: 'incomplete' }, { id: 'ep2', status: 'complete' }] });
  });

  it('a budget below even the speech: nothing is sent at all', { timeout: 60_000 }, async () => {
    const f = await startFake();
    fakes.push(f);
    const p = scriptProject([[long, long]]);
    const cli = await runCli(['render', p.manifest, '--provider', 'wavespeed', '--cache-dir', p.cacheDir, '--out', p.outDir, '--no-report', '--budget', '0.01'], fakeEnv(f));
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/over budget/);
    expect(f.speechSubmissions).toHaveLength(0);
    expect(f.submissions).toHaveLength(0);
  });
});
