/** kill -9 while lines are being voiced, then rerun: every speech key is paid for once. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeWavespeed } from '../fakes/wavespeed-server.ts';
import { renderChild, startFake, until } from '../helpers/engine.ts';
import { tinyProject } from '../helpers/tasks.ts';

const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const MANIFEST = `version: 1
defaults: { image: two-people.png }
cast: { left: { voice: Wise_Woman }, right: { voice: Deep_Voice_Man } }
episodes:
  - id: e1
    scenes:
      - id: s1
        lines:
          - left: { say: "Hello there, how are you today?" }
          - right: { say: "Fine, thank you, and you?" }
      - { id: s2, left: { say: "One more line to say." } }
`;

function speechRows(cacheDir: string): { status: string; prediction_id: string | null }[] {
  const db = new Database(path.join(cacheDir, 'duologue.db'), { readonly: true });
  try {
    return db.prepare("SELECT status, prediction_id FROM renders WHERE key LIKE 'speech-%'").all() as { status: string; prediction_id: string | null }[];
  } finally {
    db.close();
  }
}

describe('kill -9 during speech', () => {
  it('a rerun resumes the recorded speech predictions: no line is submitted twice, the episode completes', async () => {
    // Slow speech (0.8 s per second of audio) keeps the predictions in flight when the kill lands.
    const fake = await startFake({ msPerVideoSecond: 800 });
    fakes.push(fake);
    const { manifest } = tinyProject(MANIFEST);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-sp-crash-'));
    const first = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl, concurrency: 3 });
    // Killed once every line's prediction id is recorded (a kill inside the submit is the held case).
    await until(() => fake.speechSubmissions.length === 3 && speechRows(cacheDir).filter((r) => r.status === 'in-flight' && r.prediction_id).length === 3, 'three speech predictions recorded');
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    expect(fake.submissions).toHaveLength(0); // killed before any video

    const second = renderChild({ manifest, cacheDir, baseUrl: fake.apiUrl, concurrency: 3 });
    expect(await second.exit).toBe(0);
    expect(fake.speechSubmissions).toHaveLength(3); // resumed, not resubmitted
    expect(new Set(fake.speechSubmissions.map((s) => s.body.text)).size).toBe(3);
    expect(fake.submissions).toHaveLength(2);
    expect(speechRows(cacheDir).every((r) => r.status === 'complete')).toBe(true);
    const voiced = second.events.filter((e) => e.type === 'speech' && e.status === 'voiced');
    expect(voiced).toHaveLength(3);
    // The resumed lines were charged to the killed run: this one records nothing for them.
    expect(voiced.every((e) => e.costUsd === 0)).toBe(true);
  });
});
