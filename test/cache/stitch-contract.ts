/**
 * The episode-stitch claim's part of the store contract (run by
 * `storeContract` against every backend): one stitcher per episode output,
 * fenced by an epoch, and a written output done for everyone.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Store, StoreOptions, StitchRequest } from '../../pipeline/cache/interfaces.ts';

type Setup = () => Promise<{ as: (owner: string, o?: Omit<StoreOptions, 'dir' | 'owner'>) => Promise<Store>; clock: { now: number } }>;

const LEASE = 30_000;
const OUT = { bytes: 1234, sha256: 'ab'.repeat(32) };
const req = (key = 'fp-1', runId?: number): StitchRequest => ({ key, episodeId: 's01e01', target: 's3://bucket/out/s01e01.mp4', runId });

export function stitchContract(setup: Setup): void {
  describe('episode stitches', () => {
    it('two workers racing for one episode: one wins, the other sees it held by the winner (and so does the winner)', async () => {
      const { as, clock } = await setup();
      const a = (await as('host-a:1:1:aaaa')).stitches;
      const b = (await as('host-b:2:1:bbbb')).stitches;
      const results = await Promise.all([a.claim(req()), b.claim(req())]);
      const won = results.filter((r) => r.kind === 'won');
      expect(won).toHaveLength(1);
      const [winner, other] = results[0]!.kind === 'won' ? ['host-a:1:1:aaaa', b] : ['host-b:2:1:bbbb', a];
      expect(won[0]).toMatchObject({ epoch: 1, row: { status: 'open', owner: winner, lease_until: clock.now + LEASE, episode_id: 's01e01' } });
      expect(results.find((r) => r.kind !== 'won')).toMatchObject({ kind: 'held', row: { owner: winner, lease_until: clock.now + LEASE } });
      expect(await other.claim(req())).toMatchObject({ kind: 'held' });
      // The winner asking again is held too: one stitch per claim.
      const mine = winner === 'host-a:1:1:aaaa' ? a : b;
      expect(await mine.claim(req())).toMatchObject({ kind: 'held', row: { owner: winner } });
      // Another episode (or the same one with changed inputs: another fingerprint) is its own claim.
      expect(await other.claim(req('fp-2'))).toMatchObject({ kind: 'won', epoch: 1 });
    });

    it('renew keeps the claim; a lapsed lease is taken over with a higher epoch and the stale owner can neither renew nor mark it written', async () => {
      const { as, clock } = await setup();
      const a = (await as('host-a:1:1:aaaa')).stitches;
      const b = (await as('host-b:2:1:bbbb')).stitches;
      const first = await a.claim(req());
      if (first.kind !== 'won') throw new Error('a should win');
      clock.now += LEASE - 1_000;
      expect(await a.renew('fp-1', first.epoch)).toBe(true);
      clock.now += LEASE - 1_000; // past the first lease, inside the renewed one
      expect((await b.claim(req())).kind).toBe('held');
      clock.now += 2_000; // a stopped renewing (paused, partitioned)
      const taken = await b.claim(req());
      expect(taken).toMatchObject({ kind: 'won', epoch: first.epoch + 1, row: { owner: 'host-b:2:1:bbbb' } });
      if (taken.kind !== 'won') return;
      // a wakes up: everything it writes under its old token is refused.
      expect(await a.renew('fp-1', first.epoch)).toBe(false);
      expect(await a.markWritten('fp-1', first.epoch, { bytes: 1, sha256: 'stale' })).toBe(false);
      await a.release('fp-1', first.epoch); // nor can it give away b's claim
      expect(await a.get('fp-1')).toMatchObject({ status: 'open', owner: 'host-b:2:1:bbbb', claim_epoch: taken.epoch });
      expect(await b.markWritten('fp-1', taken.epoch, OUT)).toBe(true);
      expect(await b.get('fp-1')).toMatchObject({ status: 'written', written_by: 'host-b:2:1:bbbb', output_sha256: OUT.sha256, output_bytes: OUT.bytes });
      // Written once: the same token cannot write it again either.
      expect(await b.markWritten('fp-1', taken.epoch, OUT)).toBe(false);
    });

    it('a dead owner on this host frees the episode at once, lease or not', async () => {
      const { as } = await setup();
      const dead = (await as(`${hostname()}:999999999::dead`)).stitches;
      const live = (await as('host-b:2:1:bbbb')).stitches;
      expect((await dead.claim(req())).kind).toBe('won');
      expect(await live.claim(req())).toMatchObject({ kind: 'won', epoch: 2 });
    });

    it('a written episode is done for every worker and every later run: who wrote it, when, where', async () => {
      const { as, clock } = await setup();
      const a = (await as('host-a:1:1:aaaa')).stitches;
      const won = await a.claim(req('fp-1', 7));
      if (won.kind !== 'won') throw new Error('a should win');
      clock.now += 5_000;
      expect(await a.markWritten('fp-1', won.epoch, OUT)).toBe(true);
      const writtenAt = clock.now;
      clock.now += 10 * LEASE;
      const later = (await as('host-c:3:1:cccc')).stitches;
      expect(await later.claim(req())).toEqual({
        kind: 'written',
        row: expect.objectContaining({
          status: 'written',
          written_by: 'host-a:1:1:aaaa',
          written_at: writtenAt,
          target: 's3://bucket/out/s01e01.mp4',
          run_id: 7,
          output_bytes: OUT.bytes,
          output_sha256: OUT.sha256,
          owner: null,
        }),
      });
      expect((await a.claim(req())).kind).toBe('written');
    });

    it('a released claim is free at once; a written output found gone is reopened once, under the epoch it was read with', async () => {
      const { as } = await setup();
      const a = (await as('host-a:1:1:aaaa')).stitches;
      const b = (await as('host-b:2:1:bbbb')).stitches;
      const first = await a.claim(req());
      if (first.kind !== 'won') throw new Error('a should win');
      await a.release('fp-1', first.epoch); // its stitch failed
      const second = await b.claim(req());
      expect(second).toMatchObject({ kind: 'won', epoch: first.epoch + 1 });
      if (second.kind !== 'won') return;
      expect(await b.markWritten('fp-1', second.epoch, OUT)).toBe(true);
      // Both find the output gone; only one reopens it, and the other's claim then races fairly.
      expect(await a.reopen('fp-1', second.epoch)).toBe(true);
      expect(await b.reopen('fp-1', second.epoch)).toBe(false);
      const third = await b.claim(req());
      expect(third).toMatchObject({ kind: 'won', epoch: second.epoch + 1, row: { status: 'open' } });
      expect(await a.reopen('fp-1', third.kind === 'won' ? third.epoch : -1)).toBe(false); // open, not written: nothing to reopen
      expect(await a.get('missing')).toBeUndefined();
    });
  });
}
