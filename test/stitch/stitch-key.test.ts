import { describe, expect, it } from 'vitest';
import { episodeFormat } from '../../pipeline/stitch/format.ts';
import { stitchKey, type StitchKeyInput } from '../../pipeline/stitch/stitch-key.ts';

const base: StitchKeyInput = {
  episodeId: 's01e01',
  title: 'Pilot',
  scenes: [
    { identity: 'k1', title: 'Cold open' },
    { identity: 'k2', title: 'Argument' },
  ],
  format: episodeFormat(['480p']),
  target: 's3://b/out/s01e01.mp4',
};

describe('the stitch fingerprint', () => {
  it('is stable for the same inputs, however the objects were built', () => {
    const rebuilt: StitchKeyInput = { target: base.target, format: { ...base.format }, scenes: base.scenes.map((s) => ({ title: s.title, identity: s.identity })), title: 'Pilot', episodeId: 's01e01' };
    expect(stitchKey(rebuilt)).toBe(stitchKey(base));
    expect(stitchKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with each scene, their order, a title, the format and the target', () => {
    const variants: StitchKeyInput[] = [
      { ...base, scenes: [base.scenes[1]!, base.scenes[0]!] },
      { ...base, scenes: [base.scenes[0]!, { identity: 'k3', title: 'Argument' }] },
      { ...base, scenes: [base.scenes[0]!, { identity: 'k2', title: 'Row' }] },
      { ...base, title: undefined },
      { ...base, format: episodeFormat(['720p']) },
      { ...base, format: episodeFormat(['480p'], { loudness: -23 }) },
      { ...base, target: 's3://b/other/s01e01.mp4' },
      { ...base, episodeId: 's01e02' },
    ];
    const keys = new Set([base, ...variants].map(stitchKey));
    expect(keys.size).toBe(variants.length + 1);
  });
});
