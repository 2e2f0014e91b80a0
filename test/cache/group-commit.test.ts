/**
 * The SQLite store's group commit: the units asked for in one turn share one
 * COMMIT, and each still behaves as a transaction of its own. The property
 * money rests on: a unit's promise settles only once its writes are on disk,
 * seen by another connection (another run) — a submit is sent only after
 * "submitting" is durable.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../pipeline/cache/sqlite/group-commit.ts';
import { ConnectionLock } from '../../pipeline/cache/sqlite/guard.ts';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function setup() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'dl-group-')), 'state.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  const other = new Database(file, { readonly: true });
  open.push(db, other);
  let commits = 0;
  // Counts the COMMITs the group runs (its statements are prepared once, up front).
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    if (sql !== 'COMMIT') return statement;
    const run = statement.run.bind(statement);
    statement.run = ((...args: unknown[]) => {
      commits++;
      return run(...(args as []));
    }) as typeof statement.run;
    return statement;
  }) as typeof db.prepare;
  const group = new GroupCommit(db, new ConnectionLock(), file);
  const put = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const seen = (k: string) => (other.prepare('SELECT v FROM t WHERE k = ?').get(k) as { v: number } | undefined)?.v;
  return { db, group, put, seen, commits: () => commits };
}

describe('group commit', () => {
  it('units asked for in one turn share one commit; each settles only when another connection sees its writes', async () => {
    const { group, put, seen, commits } = setup();
    const seenAtSettle: (number | undefined)[] = [];
    const units = Array.from({ length: 20 }, (_, i) =>
      group
        .run(() => {
          put.run(`k${i}`, i);
          return i;
        })
        .then((value) => {
          seenAtSettle.push(seen(`k${i}`));
          return value;
        }),
    );
    // Nothing is on disk before the group runs.
    expect(seen('k0')).toBeUndefined();
    expect(await Promise.all(units)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seenAtSettle).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(commits()).toBe(1);
    // A later turn is a later group.
    await group.run(() => put.run('later', 1));
    expect(commits()).toBe(2);
  });

  it("a unit that throws leaves nothing of its own behind and takes nothing of the others' with it", async () => {
    const { group, put, seen } = setup();
    const a = group.run(() => put.run('a', 1));
    const b = group.run(async () => {
      put.run('b', 2);
      await Promise.resolve();
      put.run('b2', 2);
      throw new Error('claim lost');
    });
    const c = group.run(() => put.run('c', 3));
    await expect(b).rejects.toThrow('claim lost');
    await Promise.all([a, c]);
    expect([seen('a'), seen('b'), seen('b2'), seen('c')]).toEqual([1, undefined, undefined, 3]);
  });

  it('when SQLite drops the whole transaction, the units that ran are refused (their writes are gone) and the rest run in the next group', async () => {
    const { db, group, put, seen } = setup();
    const a = group.run(() => put.run('a', 1));
    const b = group.run(() => {
      put.run('b', 2);
      db.exec('ROLLBACK'); // as SQLite does itself on a full disk or an I/O error
      throw new Error('database or disk is full');
    });
    const c = group.run(() => put.run('c', 3));
    await expect(a).rejects.toThrow('database or disk is full');
    await expect(b).rejects.toThrow('database or disk is full');
    await c;
    expect([seen('a'), seen('b'), seen('c')]).toEqual([undefined, undefined, 3]);
  });

  it('a failed COMMIT refuses every unit of the group', async () => {
    const { db, group, put, seen } = setup();
    const a = group.run(() => put.run('a', 1));
    // A deferred foreign-key-like failure at COMMIT: make COMMIT itself fail.
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)');
    const b = group.run(() => db.prepare('INSERT INTO child (p) VALUES (42)').run());
    await expect(a).rejects.toThrow(/FOREIGN KEY/);
    await expect(b).rejects.toThrow(/FOREIGN KEY/);
    expect(seen('a')).toBeUndefined();
  });
});
