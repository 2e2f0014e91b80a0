/**
 * The money rules of a job's exits, read off the table itself: a rule broken
 * by a new row fails here before any run pays twice for it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXITS, type Exit } from '../../pipeline/schedule/exits.ts';

const rows = Object.entries(EXITS) as [string, Exit][];

describe('the exits of a job', () => {
  it('an exit that may leave a billed task never marks the claim plain failed (the next run would submit it again)', () => {
    const charged = rows.filter(([, e]) => e.money === 'charge-held');
    expect(charged.length).toBeGreaterThan(0);
    for (const [name, e] of charged) {
      expect(['release', 'ambiguous', 'ambiguous-forget'], name).toContain(e.claim);
    }
  });

  it('an exit that gives the hold back is one where no billed task exists: failed, refused, nothing sent, or another run has the key', () => {
    const released = rows.filter(([, e]) => e.money === 'release').map(([name]) => name);
    expect(released.sort()).toEqual(
      ['claim lost', 'failed before task', 'not submitted', 'prediction failed', 'prediction refused', 'stopped before submit'].sort(),
    );
  });

  it('only a run that lost its claim writes nothing to it, and it is the only exit that waits for another run', () => {
    expect(rows.filter(([, e]) => e.claim === 'keep').map(([n]) => n)).toEqual(['claim lost']);
    expect(rows.filter(([, e]) => e.ends === 'lost').map(([n]) => n)).toEqual(['claim lost']);
  });

  it('exits decided before anything is held move no money', () => {
    for (const name of ['earlier submit unanswered', 'refused before', 'prediction expired', 'held', 'over budget', 'retry over budget'] as const) {
      expect(EXITS[name].money, name).toBe('none');
    }
  });

  it('runJob ends only through the table: no claim write or budget move outside it, and every row is used', () => {
    const source = readFileSync(path.join(import.meta.dirname, '../../pipeline/schedule/job.ts'), 'utf8');
    const endAt = source.indexOf('async function end(');
    expect(endAt).toBeGreaterThan(0);
    const before = source.slice(0, endAt);
    expect(before).not.toMatch(/renders\.(markFailed|release)\(|budget\.release\(/);
    // The one settle outside the table is a clip's: charged what it delivered.
    expect(before.match(/budget\.settle\(/g)).toHaveLength(1);
    for (const [name] of rows) expect(source, name).toContain(`'${name}'`);
  });
});
