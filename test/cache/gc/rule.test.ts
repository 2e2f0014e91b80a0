import { describe, expect, it } from 'vitest';
import { abandoned, clipVerdict, GC_LIMITS, scratchDirPid, tempName } from '../../../pipeline/cache/gc/rule.ts';
import { tempTag } from '../../../pipeline/temp-tag.ts';

describe('gc rules (pure)', () => {
  it('recognises every temp name duologue writes, with the writer pid when the name has one', () => {
    expect(tempName('ab12.mp4.4242.download')).toEqual({ pid: 4242 });
    expect(tempName('ab12.4242.tmp.mp4')).toEqual({ pid: 4242 });
    expect(tempName('ab12.json.4242.tmp')).toEqual({ pid: 4242 });
    expect(tempName('local-1.mp4.4242.tmp')).toEqual({ pid: 4242 });
    expect(tempName('local-1.mp4.tmp')).toEqual({ pid: undefined });
    expect(tempName('t.wav.0b7e4a9c-1d2e-4f3a-9b8c-712345678901.tmp')).toEqual({ pid: undefined });
    for (const name of ['ab12.mp4', 'ab12.json', 'ab12.wav', 'duologue.db', 'tmp', 'notes.tmpl']) expect(tempName(name)).toBeUndefined();
    expect(scratchDirPid('s01e01.4242')).toBe(4242);
    expect(scratchDirPid('s01e01')).toBeUndefined();
  });

  it("reads the pid back from the names duologue makes, whose nonce tells two machines' writers apart (both may be pid 1)", () => {
    const [a, b] = [tempTag(), tempTag()];
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^\\d+\\.[0-9a-f]{8}\\.${process.pid}$`));
    expect(tempName(`ab12.mp4.${a}.download`)).toEqual({ pid: process.pid });
    expect(tempName(`ab12.${a}.tmp.mp4`)).toEqual({ pid: process.pid });
    expect(scratchDirPid(`s01e01.${a}`)).toBe(process.pid);
  });

  it('a temp file is abandoned when its writer has ended (after a grace period) or after a day untouched', () => {
    const dead = () => false;
    const alive = () => true;
    expect(abandoned(4242, GC_LIMITS.graceMs, dead)).toBe(true);
    expect(abandoned(4242, GC_LIMITS.graceMs - 1, dead)).toBe(false);
    expect(abandoned(4242, GC_LIMITS.staleMs - 1, alive)).toBe(false);
    expect(abandoned(4242, GC_LIMITS.staleMs, alive)).toBe(true);
    expect(abandoned(undefined, GC_LIMITS.staleMs - 1, dead)).toBe(false);
  });

  it('a clip goes only when no given manifest uses it and no run used it within the age, or with --all', () => {
    const now = 10_000_000;
    const clip = { key: 'k', lastUsedAt: now - 5_000 };
    const rule = { keep: new Set<string>(), all: false, now };
    expect(clipVerdict(clip, rule)).toBe('used');
    expect(clipVerdict(clip, { ...rule, maxAgeMs: 6_000 })).toBe('used');
    expect(clipVerdict(clip, { ...rule, maxAgeMs: 5_000 })).toBe('remove');
    expect(clipVerdict(clip, { ...rule, all: true })).toBe('remove');
    expect(clipVerdict(clip, { ...rule, keep: new Set(['k']), all: true })).toBe('in-manifest');
    expect(clipVerdict(clip, { ...rule, keep: new Set(['k']), maxAgeMs: 0 })).toBe('in-manifest');
  });
});
