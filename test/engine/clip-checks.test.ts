/**
 * A delivered clip that fails the check (a track missing, the wrong length)
 * is paid for but never stored as a good render: no clip in the store, the
 * key not complete, the next run renders it again — and after two paid tries
 * without a usable clip the key is held, not paid a third time.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipPath } from '../../pipeline/cache/clips/index.ts';
import { runFfmpeg } from '../../pipeline/media/ffmpeg.ts';
import { cannedClip } from '../helpers/canned.ts';
import { ffmpeg } from '../helpers/engine.ts';
import { fakeProjects, sceneYaml, startRun } from '../helpers/money.ts';

const setup = fakeProjects();
const ONE_SECOND = '      - { id: a, left: tone-1s.wav, seed: 1 }';

/** A real 1 s render with one of its tracks taken out. */
const stripped: Record<string, string> = {};
beforeAll(async () => {
  const whole = await cannedClip();
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-stripped-'));
  stripped.audio = path.join(dir, 'no-audio.mp4');
  stripped.video = path.join(dir, 'no-video.mp4');
  await runFfmpeg(['-i', whole, '-an', '-c', 'copy', stripped.audio], ffmpeg);
  await runFfmpeg(['-i', whole, '-vn', '-c', 'copy', stripped.video], ffmpeg);
});

function render(cacheDir: string) {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return db.prepare('SELECT key, status, clip_path, paid_attempts, video_seconds FROM renders').get() as { key: string; status: string; clip_path: string | null; paid_attempts: number; video_seconds: number | null };
  } finally {
    db.close();
  }
}

describe('a delivered clip the check refuses', () => {
  it.each(['audio', 'video'])('missing its %s track: paid, refused, not cached; rendered again once, then held', async (track) => {
    const { fake, manifest, cacheDir } = await setup([ONE_SECOND], { cannedOutput: stripped[track], cannedSeconds: 1 });
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', costUsd: 0.15, error: expect.stringMatching(new RegExp(`lacks an? ${track} stream`)) });
    expect(first.summary.cost_usd).toBe(fake.chargedUsd); // billed by the provider, and on the run's books
    const row = render(cacheDir);
    expect(row).toMatchObject({ status: 'failed', clip_path: null, paid_attempts: 1 });
    expect(existsSync(clipPath(path.join(cacheDir, 'clips'), row.key))).toBe(false);

    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.result.plan.episodes[0].scenes[0].action).toBe('render'); // a miss, not a hit
    expect(second.summary.failed).toBe(1);
    expect(fake.submissions).toHaveLength(2);
    const third = await startRun(manifest, cacheDir, fake).done;
    expect(third.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', code: 'E_HELD', costUsd: 0 });
    expect(fake.submissions).toHaveLength(2);
  });

  it('shorter than planned by more than 0.5 s: paid by what it delivered, refused, not cached; the next run renders it again', async () => {
    const { fake, manifest, cacheDir } = await setup([sceneYaml('a', 2.5, 2)]);
    fake.script('submit', { kind: 'stretch', seconds: -1.5 }); // 1 s delivered for 2.5 s planned
    const first = await startRun(manifest, cacheDir, fake).done;
    expect(first.result.schedule.scenes[0]).toMatchObject({ outcome: 'failed', costUsd: 0.15, error: expect.stringMatching(/lasts 1\.\d\d s, expected 2\.50 s/) });
    const row = render(cacheDir);
    expect(row).toMatchObject({ status: 'failed', clip_path: null, paid_attempts: 1 });
    expect(row.video_seconds).toBeCloseTo(1, 1);
    expect(existsSync(clipPath(path.join(cacheDir, 'clips'), row.key))).toBe(false);

    const second = await startRun(manifest, cacheDir, fake).done;
    expect(second.summary).toMatchObject({ rendered: 1, failed: 0, cost_usd: 0.15 });
    expect(fake.submissions).toHaveLength(2);
    expect(render(cacheDir)).toMatchObject({ status: 'complete', paid_attempts: 2 });
  });
});
