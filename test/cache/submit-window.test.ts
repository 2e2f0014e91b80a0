import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/cache/store.ts';
import { accountId, openAccountWindow, type AccountWindow } from '../../pipeline/cache/submit-window.ts';
import { usePostgres } from '../helpers/postgres.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const HOUR = 3_600_000;

function sqliteDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'dl-window-'));
}

describe('accountId', () => {
  it('is a salted hash: stable, per key, and never contains the key', () => {
    const key = 'ws-key-abcdef123456';
    expect(accountId('wavespeed', key)).toBe(accountId('wavespeed', key));
    expect(accountId('wavespeed', key)).not.toBe(accountId('wavespeed', `${key}x`));
    expect(accountId('wavespeed', key)).not.toContain(key);
    expect(accountId('wavespeed', key)).toMatch(/^wavespeed:[0-9a-f]{32}$/);
  });
});

it('an in-memory store has no shared window', async () => {
  expect(await openAccountWindow({ dir: ':memory:', account: 'a', limit: 2, windowMs: 1000 })).toBeUndefined();
});

/** The window's rules, the same on both backends. */
function rules(place: () => Promise<{ dir: string; url?: string }>) {
  const open = async (at: { dir: string; url?: string }, limit: number, windowMs: number, account = 'acct'): Promise<AccountWindow> =>
    (await openAccountWindow({ ...at, account, limit, windowMs }))!;
  it('grants up to the limit per window, then says when a slot ages out', async () => {
    const w = await open(await place(), 3, 1_000);
    try {
      expect((await w.take(2, 10_000)).slots).toHaveLength(2);
      const second = await w.take(2, 10_100);
      expect(second.slots).toHaveLength(1);
      const none = await w.take(1, 10_200);
      expect(none.slots).toHaveLength(0);
      expect(none.retryAt).toBe(11_000);
      // A slot granted at t counts over [t, t + window).
      expect((await w.take(1, 10_999)).slots).toHaveLength(0);
      expect((await w.take(5, 11_000)).slots).toHaveLength(2);
    } finally {
      await w.close();
    }
  });

  it('a slot given back is free again; a pause stops every taker until it ends', async () => {
    const at = await place();
    const a = await open(at, 2, HOUR);
    const b = await open(at, 2, HOUR);
    try {
      const { slots } = await a.take(2, 1_000);
      expect((await b.take(1, 1_000)).slots).toHaveLength(0);
      await a.giveBack([slots[0]]);
      expect((await b.take(1, 1_001)).slots).toHaveLength(1);
      await a.giveBack([slots[1]]);
      await a.pause(5_000);
      expect(await b.take(1, 2_000)).toEqual({ slots: [], retryAt: 5_000 });
      expect((await b.take(1, 5_000)).slots).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('touch moves a start later, never earlier', async () => {
    const w = await open(await place(), 1, 1_000);
    try {
      const [slot] = (await w.take(1, 10_000)).slots;
      await w.touch(slot, 10_500);
      await w.touch(slot, 10_100);
      expect((await w.take(1, 11_400)).retryAt).toBe(11_500);
      expect((await w.take(1, 11_500)).slots).toHaveLength(1);
    } finally {
      await w.close();
    }
  });

  it('accounts do not share slots', async () => {
    const at = await place();
    const a = await open(at, 1, HOUR, 'acct-a');
    const b = await open(at, 1, HOUR, 'acct-b');
    try {
      expect((await a.take(1, 1)).slots).toHaveLength(1);
      expect((await b.take(1, 1)).slots).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

describe('SQLite window', () => {
  rules(async () => ({ dir: sqliteDir() }));

  it('three processes taking at once are granted the limit, never more', async () => {
    const dir = sqliteDir();
    const child = () =>
      run(process.execPath, ['--import', 'tsx', path.join(root, 'test/helpers/window-child.mts'), JSON.stringify({ dir, account: 'shared', limit: 7, tries: 12, per: 2 })], { cwd: root });
    const outs = await Promise.all([child(), child(), child()]);
    expect(outs.reduce((sum, o) => sum + Number(o.stdout.trim()), 0)).toBe(7);
  }, 30_000);
});

describe('Postgres window', () => {
  const pg = usePostgres();
  rules(async () => ({ dir: sqliteDir(), url: await pg.fresh() }));

  it('many connections taking at once are granted the limit, never more', async () => {
    const url = await pg.fresh();
    await (await openStore({ dir: sqliteDir(), url })).close();
    const windows = await Promise.all(Array.from({ length: 6 }, () => openAccountWindow({ dir: sqliteDir(), url, account: 'shared', limit: 9, windowMs: HOUR })));
    try {
      const grants = await Promise.all(windows.flatMap((w) => Array.from({ length: 8 }, () => w!.take(2, Date.now()))));
      expect(grants.reduce((sum, g) => sum + g.slots.length, 0)).toBe(9);
    } finally {
      await Promise.all(windows.map((w) => w!.close()));
    }
  }, 30_000);
});
