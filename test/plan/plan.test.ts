import { describe, expect, it } from 'vitest';
import { plan, type CacheLookup } from '../../pipeline/plan/index.ts';
import { PROVIDERS } from '../../pipeline/providers/info.ts';
import { episode, media, ref, scene, series } from '../helpers/series.ts';

const wavespeed = PROVIDERS.wavespeed;

describe('plan (pure)', () => {
  it('prices each scene and totals them', () => {
    const s = series([episode('e1', [scene('e1', 'a'), scene('e1', 'b', { order: 'left_right', resolution: '720p' })])]);
    const p = plan({ series: s, media: media(), provider: wavespeed });
    const [a, b] = p.episodes[0].scenes;
    expect([a.videoSeconds, a.billedSeconds, a.estimateUsd]).toEqual([10, 10, 0.3]);
    expect([b.videoSeconds, b.billedSeconds, b.estimateUsd]).toEqual([20, 20, 1.2]);
    expect(p.totals).toMatchObject({ scenes: 2, render: 2, costUsd: 1.5, fullCostUsd: 1.5, billedSeconds: 30 });
  });

  it('dialogue scenes: lines and pauses make one meanwhile track pair', () => {
    const dialogue = scene('e1', 'talk', {
      audio: {
        form: 'lines',
        lines: [
          { side: 'left', media: ref('a3'), pauseMs: 0 },
          { side: 'right', media: ref('a3'), pauseMs: 400 },
          { side: 'left', media: ref('a10'), pauseMs: 250 },
        ],
      },
    });
    const p = plan({ series: series([episode('e1', [dialogue])]), media: media(), provider: wavespeed });
    const s = p.episodes[0].scenes[0];
    expect(s.videoSeconds).toBe(16.65); // 3 + 0.4 + 3 + 0.25 + 10
    expect(s.billedSeconds).toBe(17);
    expect(s.estimateUsd).toBe(0.51);
    expect(s.tracks.left.durationMs).toBe(16_650);
    expect(s.tracks.right.durationMs).toBe(16_650);
  });

  it('a cache hit costs nothing; in-flight is resumed, not paid again', () => {
    const s = series([episode('e1', [scene('e1', 'a'), scene('e1', 'b', { seed: { kind: 'fixed', value: 2 } })])]);
    const first = plan({ series: s, media: media(), provider: wavespeed });
    const status = new Map<string, CacheLookup>([
      [first.episodes[0].scenes[0].key, { status: 'hit' }],
      [first.episodes[0].scenes[1].key, { status: 'in-flight' }],
    ]);
    const p = plan({ series: s, media: media(), provider: wavespeed, lookup: (k) => status.get(k) ?? { status: 'miss' } });
    expect(p.episodes[0].scenes.map((x) => [x.action, x.costUsd])).toEqual([
      ['cached', 0],
      ['resume', 0],
    ]);
    expect(p.totals.costUsd).toBe(0);
    expect(p.totals.fullCostUsd).toBe(0.6);
  });

  it('budget: whole episodes in manifest order; a later, cheaper one may still fit', () => {
    const s = series([
      episode('e1', [scene('e1', 'a')]), // $0.30
      episode('e2', [scene('e2', 'a', { resolution: '720p', audio: { form: 'pair', left: ref('b20') } })]), // $1.20
      episode('e3', [scene('e3', 'a', { seed: { kind: 'fixed', value: 3 } })]), // $0.30
    ]);
    const p = plan({ series: s, media: media(), provider: wavespeed, budgetUsd: 1.0 });
    expect(p.episodes.map((e) => e.admitted)).toEqual([true, false, true]);
    expect(p.episodes[1].scenes[0]).toMatchObject({ action: 'skip', skipReason: 'over budget', costUsd: 0 });
    // Admission holds the most each miss may be charged: a clip up to 0.5 s long is billed 11 s, not 10.
    expect(p.episodes[1].skipReason).toMatch(/over budget: needs \$1\.20 \(up to \$1\.26\), \$0\.67 of \$1\.00 left/);
    expect(p.budgets[0].reservedUsd).toBe(0.66);
    expect(p.episodes[0]).toMatchObject({ neededUsd: 0.3, neededMaxUsd: 0.33, budgetPool: 'run' });
    expect(p.totals.costUsd).toBeLessThanOrEqual(1.0);
  });

  it('a scene shared by two episodes (same key) is one render: counted once at admission and in the totals', () => {
    const s = series([episode('e1', [scene('e1', 'intro')]), episode('e2', [scene('e2', 'intro'), scene('e2', 'x', { seed: { kind: 'fixed', value: 9 } })])]);
    const p = plan({ series: s, media: media(), provider: wavespeed, budgetUsd: 0.66 }); // two renders at most $0.33 each
    expect(p.episodes[0].scenes[0].key).toBe(p.episodes[1].scenes[0].key);
    expect(p.episodes.map((e) => e.admitted)).toEqual([true, true]);
    expect(p.episodes[1]).toMatchObject({ neededUsd: 0.3, neededMaxUsd: 0.33 });
    expect(p.episodes[1].scenes.map((x) => x.costUsd)).toEqual([0, 0.3]);
    expect(p.totals.costUsd).toBe(0.6);
  });

  it('a key whose last paid clip came back too long is admitted at what that clip cost, as its retry will reserve', () => {
    const s = series([episode('e1', [scene('e1', 'a', { audio: { form: 'pair', left: ref('a3') } }), scene('e1', 'b', { seed: { kind: 'fixed', value: 2 } })])]);
    const first = plan({ series: s, media: media(), provider: wavespeed });
    const refused = first.episodes[0].scenes[0].key;
    // a: 3 s planned (5 s minimum, $0.15), but its last clip came back 9 s long ($0.27); b: 10 s, at most $0.33.
    const lookup = (key: string): CacheLookup => (key === refused ? { status: 'miss', refusedSeconds: 9 } : { status: 'miss' });
    expect(plan({ series: s, media: media(), provider: wavespeed, lookup }).episodes[0].scenes[0].maxUsd).toBe(0.27);
    expect(plan({ series: s, media: media(), provider: wavespeed, lookup, budgetUsd: 0.5 }).episodes[0].admitted).toBe(false); // 0.27 + 0.33 > 0.50
    expect(plan({ series: s, media: media(), provider: wavespeed, budgetUsd: 0.5 }).episodes[0].admitted).toBe(true); // 0.15 + 0.33
  });

  it('the manifest budget applies when --budget is absent; --budget overrides it', () => {
    const s = series([episode('e1', [scene('e1', 'a')]), episode('e2', [scene('e2', 'a', { seed: { kind: 'fixed', value: 2 } })])], 0.33);
    expect(plan({ series: s, media: media(), provider: wavespeed }).episodes.map((e) => e.admitted)).toEqual([true, false]);
    expect(plan({ series: s, media: media(), provider: wavespeed, budgetUsd: 10 }).episodes.map((e) => e.admitted)).toEqual([true, true]);
  });

  it('the cache key changes with seed, prompt, order, resolution, provider and any input hash — never with paths', () => {
    const base = scene('e1', 'a');
    const keyOf = (sc = base, m = media(), provider = wavespeed) => plan({ series: series([episode('e1', [sc])]), media: m, provider }).episodes[0].scenes[0].key;
    const k = keyOf();
    expect(keyOf(scene('e1', 'a', { seed: { kind: 'fixed', value: 2 } }))).not.toBe(k);
    expect(keyOf(scene('e1', 'a', { prompt: 'x' }))).not.toBe(k);
    expect(keyOf(scene('e1', 'a', { order: 'left_right' }))).not.toBe(k);
    expect(keyOf(scene('e1', 'a', { resolution: '720p' }))).not.toBe(k);
    expect(keyOf(base, media(), PROVIDERS.local)).not.toBe(k);
    const changed = media();
    changed.set('a10', { kind: 'audio', sha256: 'sha-other', localPath: 'a10', durationMs: 10_000, sampleRate: 16_000, channels: 1 });
    expect(keyOf(base, changed)).not.toBe(k);
    // Same bytes under another name and path: same key.
    const moved = media({ elsewhere: 10_000 });
    moved.set('elsewhere', { ...(moved.get('a10') as object), sha256: 'sha-a10' } as never);
    expect(keyOf(scene('e1', 'a', { audio: { form: 'pair', left: ref('elsewhere'), right: ref('b10') } }), moved)).toBe(k);
    // A different episode/scene id with the same inputs and seed renders the same clip: same key.
    expect(plan({ series: series([episode('x', [scene('x', 'y')])]), media: media(), provider: wavespeed }).episodes[0].scenes[0].key).toBe(k);
  });

  it('random seeds come from the drawn map and are reported as random', () => {
    const s = series([episode('e1', [scene('e1', 'a', { seed: { kind: 'random' } })])]);
    const p = plan({ series: s, media: media(), provider: wavespeed, drawnSeeds: new Map([['e1/a', 123]]) });
    expect(p.episodes[0].scenes[0]).toMatchObject({ seed: 123, seedSource: 'random' });
  });
});
