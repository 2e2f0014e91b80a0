/**
 * The behaviour every backend of the cache's state must have, as one suite
 * (the way unstorage runs one `testDriver` per driver). A backend's test file
 * calls `storeContract` with a factory for a fresh, empty state; each store
 * the factory opens on it is another connection (another run, or another
 * machine), sharing that state.
 */
import { mkdtempSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimRequest, Store, StoreOptions, UploadMemo } from '../../pipeline/cache/interfaces.ts';
import type { CacheKeyInput } from '../../pipeline/plan/key.ts';
import { newOwnerId, UNPROVEN_OWNER_GRACE_MS } from '../../pipeline/cache/owner.ts';
import { stitchContract } from './stitch-contract.ts';

/** Opens another connection on one fresh state. */
export type OpenStore = (options?: Omit<StoreOptions, 'dir'>) => Promise<Store>;

export const INPUTS: CacheKeyInput = { provider: 'wavespeed', model: 'm', imageSha256: 'i', left: 'l', right: 'r', prompt: 'p', order: 'meanwhile', resolution: '480p', seed: 42 };
const req = (key: string, sceneId = 's'): ClaimRequest => ({ key, inputs: INPUTS, episodeId: 'e', sceneId, estimateUsd: 0.15 });
const CLIP = { path: '/c/k.mp4', sha256: 'sha', bytes: 100, videoSeconds: 2.5, billedSeconds: 5, costUsd: 0.15 };
const LEASE = 30_000;
/** A pid above any pid_max: never a live process. */
const DEAD_PID = 999_999_999;

/** How a backend runs its transactions beside other calls (the one thing backends may do differently). */
export interface ContractOptions {
  /**
   * True: one connection, so a call through the store's parts waits until an
   * open transaction ends (SQLite). False: it runs beside it on another
   * connection, seeing only what was committed (a server's pool).
   */
  callsWaitForTransactions: boolean;
}

export function storeContract(backend: string, fresh: () => Promise<OpenStore>, { callsWaitForTransactions }: ContractOptions): void {
  describe(`store contract: ${backend}`, () => {
    const opened: Store[] = [];
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });
    /** A fresh state, and a clock its stores share. */
    const setup = async () => {
      const open = await fresh();
      const clock = { now: 1_000_000 };
      const as = async (owner: string, o: Omit<StoreOptions, 'dir' | 'owner'> = {}) => {
        const store = await open({ owner, now: () => clock.now, leaseMs: LEASE, ...o });
        opened.push(store);
        return store;
      };
      return { as, clock };
    };

    stitchContract(setup);

    describe('claims', () => {
      it('a key held by a live owner is busy for another; a lapsed lease or a dead pid frees it with its state', async () => {
        const { as, clock } = await setup();
        // Owners on another host: only their lease tells whether they are alive.
        const a = (await as('other-host:4242:1:aaaa')).renders;
        const b = (await as(`${hostname()}:${process.pid}::bbbb`)).renders;
        expect(await a.claim(req('k'))).toMatchObject({ kind: 'claimed', row: { status: 'pending', owner: a.owner, lease_until: clock.now + LEASE } });
        expect(await a.markSubmitting('k')).toBe(true);
        await a.markInFlight('k', 'pred-1');
        expect(await b.claim(req('k'))).toMatchObject({ kind: 'busy', row: { owner: a.owner } });
        clock.now += LEASE + 1_000; // a stopped renewing
        expect(await b.claim(req('k'))).toMatchObject({ kind: 'claimed', row: { status: 'in-flight', prediction_id: 'pred-1', owner: b.owner } });
        // A dead pid on this host frees the key at once, lease or not.
        const dead = (await as(`${hostname()}:${DEAD_PID}::dead`)).renders;
        expect((await dead.claim(req('k2'))).kind).toBe('claimed');
        expect((await a.claim(req('k2'))).kind).toBe('claimed');
      });

      it('renew keeps a lease alive; a complete render is never claimed, whoever asks', async () => {
        const { as, clock } = await setup();
        const a = (await as('other-host:1:1:a')).renders;
        const b = (await as('third-host:2:1:b')).renders;
        await a.claim(req('k'));
        clock.now += LEASE - 1_000;
        await a.renew();
        clock.now += LEASE - 1_000; // past the first lease, inside the renewed one
        expect((await b.claim(req('k'))).kind).toBe('busy');
        await a.markComplete('k', CLIP, 'pred-1');
        expect(await b.claim(req('k'))).toMatchObject({ kind: 'complete', row: { status: 'complete', owner: null } });
        expect(await a.claim(req('k'))).toMatchObject({ kind: 'complete' });
      });

      it('a live process on this host keeps its claim past its lease (paused is not dead); a reused pid is not the owner', async () => {
        const { as, clock } = await setup();
        const paused = (await as(newOwnerId())).renders;
        const other = (await as(`${hostname()}:${process.pid}::other`)).renders;
        expect((await paused.claim(req('k'))).kind).toBe('claimed');
        clock.now += 10 * 60_000; // no heartbeat for ten minutes
        expect((await other.claim(req('k'))).kind).toBe('busy');
        // The same pid with another start time is a reused pid: the owner is gone.
        const parts = newOwnerId().split(':');
        const reused = (await as([parts[0], parts[1], '1', 'gone'].join(':'))).renders;
        expect((await reused.claim(req('k3'))).kind).toBe('claimed');
        expect((await other.claim(req('k3'))).kind).toBe('claimed');
      });

      it('an owner of unknown start time keeps its claim past its lease only for a while (its pid may be reused)', async () => {
        const { as, clock } = await setup();
        const old = (await as(`${hostname()}:${process.pid}::no-start`)).renders;
        const next = (await as(newOwnerId())).renders;
        expect((await old.claim(req('k'))).kind).toBe('claimed');
        clock.now += LEASE + 1_000;
        expect((await next.claim(req('k'))).kind).toBe('busy');
        clock.now += UNPROVEN_OWNER_GRACE_MS;
        expect((await next.claim(req('k'))).kind).toBe('claimed');
      });

      it('a failed render is claimed afresh (pending, its error kept); an interrupted submit stays "submitting" for its new owner', async () => {
        const { as, clock } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        const b = (await as('host-b:2:1:b')).renders;
        await a.claim(req('k'));
        await a.markFailed('k', 'boom');
        expect(await b.claim(req('k', 'renamed'))).toMatchObject({ kind: 'claimed', row: { status: 'pending', error: 'boom', owner: b.owner, scene_id: 'renamed' } });
        await a.claim(req('k2'));
        await a.markSubmitting('k2');
        clock.now += LEASE + 1_000;
        expect(await b.claim(req('k2'))).toMatchObject({ kind: 'claimed', row: { status: 'submitting', attempts: 1 } });
      });

      it('closeSubmit records the end of a submit whoever holds the row, only while that submit is the recorded one', async () => {
        const { as, clock } = await setup();
        const paused = (await as('host-a:10:1:paused')).renders;
        const taker = (await as('host-b:20:1:taker')).renders;
        await paused.claim(req('k'));
        expect(await paused.markSubmitting('k', '{"at":1}')).toBe(true);
        clock.now += LEASE + 1_000; // paused mid-submit past its lease
        expect(await taker.claim(req('k'))).toMatchObject({ kind: 'claimed', row: { status: 'submitting', submit_sent: '{"at":1}' } });
        // The paused worker, continued, says its request is over: recorded though the claim is not its own.
        expect(await paused.closeSubmit('k', '{"at":1}', '{"at":1,"closedAt":5}')).toBe(true);
        expect(await taker.get('k')).toMatchObject({ status: 'submitting', owner: taker.owner, submit_sent: '{"at":1,"closedAt":5}' });
        // Another submit recorded since: an old close changes nothing.
        expect(await taker.markSubmitting('k', '{"at":9}')).toBe(true);
        expect(await paused.closeSubmit('k', '{"at":1,"closedAt":5}', '{"at":1,"closedAt":6}')).toBe(false);
        expect((await taker.get('k'))?.submit_sent).toBe('{"at":9}');
        await taker.markComplete('k', CLIP, 'pred-1');
        expect(await taker.closeSubmit('k', '{"at":9}', '{"at":9,"closedAt":10}')).toBe(false); // never over a complete render
      });

      it('markSubmitting is a compare-and-set on the claim: a run that lost it cannot submit, and a late id is never dropped', async () => {
        const { as, clock } = await setup();
        const slow = (await as('host-a:10:1:slow')).renders;
        const fast = (await as('host-b:20:1:fast')).renders;
        await slow.claim(req('k'));
        clock.now += LEASE + 1_000; // slow was partitioned or paused past its lease
        expect((await fast.claim(req('k'))).kind).toBe('claimed');
        expect(await slow.markSubmitting('k', '{"at":1}')).toBe(false); // slow must not POST
        expect(await fast.markSubmitting('k', '{"at":2}')).toBe(true);
        expect(await fast.get('k')).toMatchObject({ status: 'submitting', attempts: 1, submit_sent: '{"at":2}', owner: fast.owner });
        await fast.markInFlight('k', 'pred-fast');
        expect(await slow.get('k')).toMatchObject({ status: 'in-flight', prediction_id: 'pred-fast', owner: fast.owner });
        // A submit sent before the claim moved still records its id (losing it would mean paying again).
        await slow.claim(req('k2'));
        expect(await slow.markSubmitting('k2')).toBe(true);
        clock.now += LEASE + 1_000;
        expect(await fast.claim(req('k2'))).toMatchObject({ kind: 'claimed', row: { status: 'submitting' } });
        await fast.markFailed('k2', 'may have been billed', { status: 'ambiguous' });
        await slow.markInFlight('k2', 'pred-late');
        expect(await fast.get('k2')).toMatchObject({ status: 'in-flight', prediction_id: 'pred-late', error: null, owner: slow.owner });
        // Never over a complete render.
        await fast.claim(req('k3'));
        await fast.markComplete('k3', CLIP);
        expect(await fast.markSubmitting('k3')).toBe(false);
      });

      it('a run that lost its claim cannot undo the new holder’s work: no write over a row it no longer holds, or a complete one', async () => {
        const { as, clock } = await setup();
        const paused = (await as('host-a:10:1:paused')).renders;
        const other = (await as('host-b:20:1:other')).renders;
        await paused.claim(req('k'));
        clock.now += LEASE + 1_000;
        await other.claim(req('k'));
        await other.markSubmitting('k');
        await other.markInFlight('k', 'pred-1');
        await paused.markFailed('k', 'interrupted before submit');
        await paused.markPending('k');
        await paused.release('k');
        expect(await paused.missedOutput('k')).toBe(0);
        expect(await paused.get('k')).toMatchObject({ status: 'in-flight', owner: other.owner, error: null, output_misses: 0 });
        await other.markComplete('k', CLIP, 'pred-1');
        await paused.markFailed('k', 'interrupted before submit');
        await paused.release('k');
        await paused.markInFlight('k', 'pred-2');
        expect(await paused.get('k')).toMatchObject({ status: 'complete', clip_path: CLIP.path, prediction_id: 'pred-1' });
      });
    });

    describe('fencing', () => {
      it('every claim takes a higher epoch; a stale epoch cannot mark submitting, pending, failed, complete or release, even under the same owner name', async () => {
        const { as, clock } = await setup();
        // Two stores under one owner name (a worker restarted with its old identity): only the epoch tells their claims apart.
        const stale = (await as('host-a:10:1:same')).renders;
        const fresh = (await as('host-a:10:1:same')).renders;
        expect(await stale.claim(req('k'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 1 } });
        clock.now += LEASE + 1_000;
        expect(await fresh.claim(req('k'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 2, owner: fresh.owner } });
        expect(await stale.markSubmitting('k', '{"at":1}')).toBe(false);
        await stale.markFailed('k', 'stale');
        await stale.markPending('k');
        await stale.release('k');
        expect(await stale.missedOutput('k')).toBe(0);
        await stale.markComplete('k', CLIP);
        expect(await fresh.get('k')).toMatchObject({ status: 'pending', attempts: 0, error: null, owner: fresh.owner, lease_until: clock.now + LEASE, claim_epoch: 2 });
        expect(await fresh.markSubmitting('k', '{"at":2}')).toBe(true);
        expect(await fresh.get('k')).toMatchObject({ status: 'submitting', attempts: 1, submit_sent: '{"at":2}' });
      });

      it('a lapsed claim is taken over with a higher epoch and resumes the in-flight task: no second submit, the old holder completes nothing', async () => {
        const { as, clock } = await setup();
        const first = (await as('host-a:10:1:first')).renders;
        const next = (await as('host-b:20:1:next')).renders;
        await first.claim(req('k'));
        expect(await first.markSubmitting('k')).toBe(true);
        await first.markInFlight('k', 'pred-1');
        clock.now += LEASE + 1_000; // first is paused past its lease
        const taken = await next.claim(req('k'));
        expect(taken).toMatchObject({ kind: 'claimed', row: { status: 'in-flight', prediction_id: 'pred-1', owner: next.owner, claim_epoch: 2, attempts: 1 } });
        // The new holder resumes pred-1: it has no reason to submit, and the old one may not.
        expect(await first.markSubmitting('k')).toBe(false);
        await first.markComplete('k', { ...CLIP, path: '/c/stale.mp4' }); // not its prediction to settle, no longer its claim
        await first.release('k');
        expect(await next.get('k')).toMatchObject({ status: 'in-flight', owner: next.owner, claim_epoch: 2, attempts: 1 });
        await next.markComplete('k', CLIP, 'pred-1');
        expect(await next.get('k')).toMatchObject({ status: 'complete', clip_path: CLIP.path, prediction_id: 'pred-1', paid_attempts: 1, attempts: 1, owner: null });
        expect(await next.predictionIds('k')).toEqual(['pred-1']);
      });

      it('a late task id taking a free row makes it a new claim of its recorder, with a token of its own', async () => {
        const { as, clock } = await setup();
        const late = (await as('host-a:10:1:late')).renders;
        const other = (await as('host-b:20:1:other')).renders;
        await late.claim(req('k'));
        expect(await late.markSubmitting('k')).toBe(true);
        clock.now += LEASE + 1_000; // the submit's answer is slow past the lease
        expect(await other.claim(req('k'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 2 } });
        await other.release('k'); // gave it back (Ctrl-C) before doing anything
        await late.markInFlight('k', 'pred-late'); // recorded, and the free row is late's again
        expect(await late.get('k')).toMatchObject({ status: 'in-flight', owner: late.owner, claim_epoch: 3, prediction_id: 'pred-late' });
        await late.markFailed('k', 'the prediction failed');
        expect(await late.get('k')).toMatchObject({ status: 'failed', owner: null, error: 'the prediction failed' });
      });

      it('a re-claim of a key this store holds is busy; releaseAll frees only this store’s claims, and a later claim takes a new epoch', async () => {
        const { as } = await setup();
        const a = (await as('host-a:10:1:same')).renders;
        const b = (await as('host-a:10:1:same')).renders; // same owner name, another store
        expect(await b.claim(req('k1'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 1 } });
        await b.release('k1');
        expect(await a.claim(req('k1'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 2 } });
        expect(await a.claim(req('k1'))).toMatchObject({ kind: 'busy', row: { owner: a.owner, claim_epoch: 2 } });
        await a.release('k1');
        expect(await a.claim(req('k1'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 3 } });
        await a.claim(req('k2'));
        await a.releaseAll();
        expect(await a.get('k1')).toMatchObject({ owner: null, lease_until: null, claim_epoch: 3 });
        expect(await a.markSubmitting('k1')).toBe(false); // released: no longer a's to submit
        expect(await b.claim(req('k3'))).toMatchObject({ kind: 'claimed' });
        await a.releaseAll();
        expect(await b.get('k3')).toMatchObject({ owner: b.owner, claim_epoch: 1 }); // b's claim, though its owner name is a's
        expect(await b.markSubmitting('k3')).toBe(true);
        expect(await a.claim(req('k1'))).toMatchObject({ kind: 'claimed', row: { claim_epoch: 4 } });
        expect(await a.markSubmitting('k1')).toBe(true);
      });
    });

    describe('states', () => {
      it('markInFlight records every prediction id a key has had, whoever holds the row, and takes a free row', async () => {
        const { as } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        const b = (await as('host-b:2:1:b')).renders;
        expect(await a.predictionIds('none')).toEqual([]);
        await a.claim(req('k'));
        await a.markInFlight('k', 'p1');
        await a.markFailed('k', 'server error');
        expect(await a.get('k')).toMatchObject({ status: 'failed', owner: null, prediction_id: 'p1' });
        await b.markInFlight('k', 'p2'); // free: b's now
        expect(await b.get('k')).toMatchObject({ status: 'in-flight', prediction_id: 'p2', owner: b.owner, error: null });
        await a.markInFlight('k', 'p3'); // held by b: the id is recorded all the same, b keeps the row
        expect(await a.get('k')).toMatchObject({ prediction_id: 'p3', owner: b.owner });
        expect(await a.predictionIds('k')).toEqual(['p1', 'p2', 'p3']);
        // An id the key lost (the provider did not know it) is still in its history.
        await b.markFailed('k', 'gone', { status: 'ambiguous', forgetPrediction: true });
        expect(await b.get('k')).toMatchObject({ status: 'ambiguous', prediction_id: null });
        expect(await b.predictionIds('k')).toEqual(['p1', 'p2', 'p3']);
      });

      it('markComplete counts the paid prediction and frees the claim; markFailed counts paid, refused and delivered seconds (the held rule reads them)', async () => {
        const { as, clock } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        for (let i = 0; i < 2; i++) {
          await a.claim(req('held'));
          await a.markFailed('held', `clip lasts 9 s (${i})`, { paid: { deliveredSeconds: 9 } });
        }
        expect(await a.get('held')).toMatchObject({ status: 'failed', paid_attempts: 2, video_seconds: 9, error: 'clip lasts 9 s (1)', owner: null, lease_until: null, refused: 0 });
        await a.claim(req('held'));
        await a.markFailed('held', 'moderation', { refused: true });
        expect(await a.get('held')).toMatchObject({ paid_attempts: 2, video_seconds: 9, refused: 1 });
        await a.claim(req('k'));
        clock.now += 5;
        await a.markComplete('k', CLIP, 'pred-1');
        expect(await a.get('k')).toMatchObject({
          status: 'complete',
          clip_path: CLIP.path,
          clip_sha256: CLIP.sha256,
          clip_bytes: CLIP.bytes,
          video_seconds: CLIP.videoSeconds,
          billed_seconds: CLIP.billedSeconds,
          cost_usd: CLIP.costUsd,
          paid_attempts: 1,
          owner: null,
          lease_until: null,
          completed_at: clock.now,
        });
        // Collected without a prediction of its own (a local render, say): nothing paid is counted.
        await a.claim(req('free'));
        await a.markComplete('free', CLIP);
        expect(await a.get('free')).toMatchObject({ status: 'complete', paid_attempts: 0 });
        // The paid rows of an earlier failure stay counted when a later one completes.
        await a.claim(req('held'));
        await a.markComplete('held', CLIP, 'pred-2');
        expect(await a.get('held')).toMatchObject({ status: 'complete', paid_attempts: 3 });
      });

      it('markComplete by the run whose prediction it was lands even when another run holds the row', async () => {
        const { as, clock } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        const b = (await as('host-b:2:1:b')).renders;
        await a.claim(req('k'));
        await a.markInFlight('k', 'pred-a');
        clock.now += LEASE + 1_000;
        await b.claim(req('k'));
        await a.markComplete('k', CLIP, 'pred-a');
        expect(await b.get('k')).toMatchObject({ status: 'complete', owner: null });
        await a.claim(req('k2'));
        await a.markInFlight('k2', 'pred-x');
        clock.now += LEASE + 1_000;
        await b.claim(req('k2'));
        await a.markComplete('k2', CLIP, 'pred-other'); // not the row's prediction, not a's row: nothing
        expect(await b.get('k2')).toMatchObject({ status: 'in-flight', owner: b.owner });
      });

      it('missedOutput counts a prediction’s misses in a row; a new prediction starts from none', async () => {
        const { as } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        await a.claim(req('k'));
        await a.markInFlight('k', 'p1');
        expect(await a.missedOutput('k')).toBe(1);
        expect(await a.missedOutput('k')).toBe(2);
        await a.markInFlight('k', 'p2');
        expect(await a.get('k')).toMatchObject({ output_misses: 0 });
        expect(await a.missedOutput('k')).toBe(1);
        expect(await a.missedOutput('no-such-key')).toBe(0);
      });

      it('markPending, release and releaseAll give a key back without losing its state; releaseAll only this owner’s', async () => {
        const { as } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        const b = (await as('host-b:2:1:b')).renders;
        await a.claim(req('k1'));
        await a.markSubmitting('k1');
        await a.markPending('k1');
        expect(await a.get('k1')).toMatchObject({ status: 'pending', owner: a.owner, attempts: 1 });
        await a.markInFlight('k1', 'p1');
        await a.release('k1');
        expect(await a.get('k1')).toMatchObject({ status: 'in-flight', prediction_id: 'p1', owner: null, lease_until: null });
        await a.claim(req('k2'));
        await a.claim(req('k3'));
        await b.claim(req('k4'));
        await a.releaseAll();
        for (const k of ['k2', 'k3']) expect(await a.get(k)).toMatchObject({ status: 'pending', owner: null, lease_until: null });
        expect(await a.get('k4')).toMatchObject({ owner: b.owner });
      });

      it('forget makes a complete render a plain miss (not a paid try held against it), dated; relocate moves a complete clip', async () => {
        const { as, clock } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        await a.claim(req('k'));
        await a.markComplete('k', CLIP, 'p1');
        await a.relocate('k', '/moved/k.mp4');
        expect(await a.get('k')).toMatchObject({ clip_path: '/moved/k.mp4' });
        clock.now += 1_000;
        await a.forget('k', 'clip missing from the store');
        expect(await a.get('k')).toMatchObject({ status: 'failed', error: 'clip missing from the store', clip_path: null, paid_attempts: 0, updated_at: clock.now });
        // Only a complete one.
        await a.claim(req('k2'));
        await a.forget('k2', 'x');
        await a.relocate('k2', '/moved/k2.mp4');
        expect(await a.get('k2')).toMatchObject({ status: 'pending', error: null, clip_path: null });
      });

      it('get, getMany and the last key of each scene', async () => {
        const { as } = await setup();
        const a = (await as('host-a:1:1:a')).renders;
        expect(await a.get('k')).toBeUndefined();
        await a.claim(req('k1'));
        await a.claim(req('k2'));
        const rows = await a.getMany(['k1', 'k2', 'k3', 'k1']);
        expect([...rows.keys()].sort()).toEqual(['k1', 'k2']);
        expect(rows.get('k1')).toMatchObject({ key: 'k1', provider: 'wavespeed', model: 'm', seed: 42, estimate_usd: 0.15, inputs: JSON.stringify(INPUTS) });
        await a.recordSceneKey('e', 's', 'k1', INPUTS);
        await a.recordSceneKey('e', 's', 'k2', { ...INPUTS, seed: 43 }); // the scene rendered again, with another seed
        await a.recordSceneKey('e', 't', 'k1', INPUTS);
        const last = await a.lastSceneKeys([
          { episodeId: 'e', sceneId: 's' },
          { episodeId: 'e', sceneId: 'none' },
        ]);
        expect([...last]).toEqual([['e/s', { key: 'k2', inputs: { ...INPUTS, seed: 43 } }]]);
      });
    });

    describe('ledger', () => {
      it('a scene written twice moves the run’s spend by the difference; charges name the run’s own prediction', async () => {
        const { as, clock } = await setup();
        const store = await as('host-a:1:1:a');
        const { ledger, renders } = store;
        const run = await ledger.start({ provider: 'wavespeed', args: ['render', 'x.yaml'], budgetUsd: 2, plannedUsd: 0.3 });
        const other = await ledger.start({ provider: 'local', args: [], plannedUsd: 0 });
        expect(other).toBeGreaterThan(run);
        const s = { episodeId: 'e', sceneId: 's', key: 'k' };
        await ledger.scene(run, { ...s, outcome: 'in-flight', costUsd: 0.3 }); // charged at submit
        await ledger.scene(run, { ...s, outcome: 'rendered', costUsd: 0.15 }); // settled
        await ledger.scene(run, { episodeId: 'e', sceneId: 't', key: 'k2', outcome: 'failed', error: 'boom' });
        await ledger.scene(run, { episodeId: 'e', sceneId: 'u', key: 'k3', outcome: 'cached' });
        await ledger.scene(run, { episodeId: 'e', sceneId: 'v', key: 'k4', outcome: 'interrupted', costUsd: 0.3 }); // may have been billed, no id
        await ledger.submitted(run, s, 'pred-own');
        await renders.claim(req('k'));
        await renders.markInFlight('k', 'pred-later'); // the key's prediction moves on: the run's books keep their own
        expect((await store.admin.recentRuns(10)).find((r) => r.run.id === run)?.run).toMatchObject({ spent_usd: 0.45, budget_usd: 2, planned_usd: 0.3, args: '["render","x.yaml"]', provider: 'wavespeed', result: null });
        const info = (await ledger.run(run, 'wavespeed'))!;
        expect(info).toEqual({ id: run, startedAt: 1_000_000, provider: 'wavespeed' });
        expect((await ledger.charges(info)).sort((x, y) => x.sceneId.localeCompare(y.sceneId))).toEqual([
          { episodeId: 'e', sceneId: 's', key: 'k', outcome: 'rendered', costUsd: 0.15, predictionId: 'pred-own' },
          { episodeId: 'e', sceneId: 'v', key: 'k4', outcome: 'interrupted', costUsd: 0.3, predictionId: undefined },
        ]);
        await ledger.planned(run, { budgetUsd: 3, plannedUsd: 0.5 });
        clock.now += 60_000;
        await ledger.finish(run, 'incomplete', 'ep1 not written');
        expect(await ledger.run(run, 'wavespeed')).toEqual({ id: run, startedAt: 1_000_000, finishedAt: clock.now, provider: 'wavespeed' });
        expect((await store.admin.recentRuns(10)).find((r) => r.run.id === run)?.run).toMatchObject({ budget_usd: 3, planned_usd: 0.5, result: 'incomplete', note: 'ep1 not written', finished_at: clock.now });
        // With no id: the last run of that provider.
        expect((await ledger.run(undefined, 'wavespeed'))?.id).toBe(run);
        expect((await ledger.run(undefined, 'local'))?.id).toBe(other);
        expect(await ledger.run(999, 'wavespeed')).toBeUndefined();
        expect(await ledger.run(undefined, 'nobody')).toBeUndefined();
      });

      it('an older run’s charge without its own prediction is matched by the key’s, by time; knowsPrediction sees every id ever recorded', async () => {
        const { as, clock } = await setup();
        const { ledger, renders } = await as('host-a:1:1:a');
        const run = await ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0.15 });
        await renders.claim(req('k'));
        clock.now += 1_000;
        await renders.markInFlight('k', 'pred-1'); // submitted inside the run's time
        await ledger.scene(run, { episodeId: 'e', sceneId: 's', key: 'k', outcome: 'interrupted', costUsd: 0.15 });
        clock.now += 1_000;
        await ledger.finish(run, 'interrupted');
        expect(await ledger.charges((await ledger.run(run, 'wavespeed'))!)).toEqual([{ episodeId: 'e', sceneId: 's', key: 'k', outcome: 'interrupted', costUsd: 0.15, predictionId: 'pred-1' }]);
        clock.now += 1_000;
        await renders.markInFlight('k', 'pred-2'); // a later run's: not this run's charge
        expect(await ledger.charges((await ledger.run(run, 'wavespeed'))!)).toEqual([{ episodeId: 'e', sceneId: 's', key: 'k', outcome: 'interrupted', costUsd: 0.15, predictionId: undefined }]);
        const later = await ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 });
        await ledger.scene(later, { episodeId: 'e', sceneId: 'x', key: 'kx', outcome: 'in-flight', costUsd: 0.15 });
        await ledger.submitted(later, { episodeId: 'e', sceneId: 'x' }, 'pred-run-only');
        for (const id of ['pred-1', 'pred-2', 'pred-run-only']) expect(await ledger.knowsPrediction(id), id).toBe(true);
        expect(await ledger.knowsPrediction('pred-unknown')).toBe(false);
      });
    });

    describe('named runs and shared holds', () => {
      const named = { name: 'night', provider: 'wavespeed', args: ['render'], budgetUsd: 1, plannedUsd: 2, capJson: '{"run":1}', planFingerprint: 'fp-1' };
      const hold = (key: string, usd: number, owner = 'host-a:1:1:a') => ({ pool: 'run', key, usd, owner, limitUsd: 1 });

      it('workers with one name join one run row; the second sees the first one’s caps and fingerprint', async () => {
        const { as } = await setup();
        const a = await as('host-a:1:1:a');
        const b = await as('host-b:1:1:b');
        const first = await a.ledger.joinRun(named);
        expect(first).toMatchObject({ created: true, capJson: '{"run":1}', planFingerprint: 'fp-1' });
        await a.ledger.finish(first.id, 'incomplete');
        const second = await b.ledger.joinRun({ ...named, capJson: '{"run":2}', planFingerprint: 'fp-2' });
        expect(second).toEqual({ id: first.id, created: false, capJson: '{"run":1}', planFingerprint: 'fp-1', drawnSeeds: {} });
        // One row: the ledger shows one run whatever the number of workers.
        expect((await b.admin.recentRuns(10)).filter((r) => r.run.id === first.id)).toHaveLength(1);
        expect((await a.ledger.joinRun({ ...named, name: 'day' })).id).not.toBe(first.id);
        // Unnamed runs are as many as ever.
        expect(await a.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 })).not.toBe(await a.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 }));
      });

      it('the seeds the first worker drew are the run’s: every later worker is given them, whatever it drew', async () => {
        const { as } = await setup();
        const a = await as('host-a:1:1:a');
        const b = await as('host-b:1:1:b');
        const first = await a.ledger.joinRun({ ...named, drawnSeeds: { 'ep2/b': 77, 'ep1/a': 5 } });
        expect(first.drawnSeeds).toEqual({ 'ep1/a': 5, 'ep2/b': 77 });
        expect((await b.ledger.joinRun({ ...named, drawnSeeds: { 'ep2/b': 1234 } })).drawnSeeds).toEqual({ 'ep1/a': 5, 'ep2/b': 77 });
        expect((await b.ledger.joinRun({ ...named, name: 'fixed-seeds' })).drawnSeeds).toEqual({});
      });

      it('each worker that joins is listed with its heartbeat, its own done scenes and open claims; live, lapsed, finished each on its own', async () => {
        const { as, clock } = await setup();
        const a = await as('host-a:101:1:a');
        const b = await as('host-b:202:1:b');
        const { id: run } = await a.ledger.joinRun(named);
        await b.ledger.joinRun(named);
        await a.ledger.joinWorker(run);
        await b.ledger.joinWorker(run);
        await b.ledger.joinWorker(run); // once per worker
        await a.renders.claim(req('ka', 'a'));
        await a.renders.markComplete('ka', CLIP);
        await a.ledger.scene(run, { episodeId: 'e', sceneId: 'a', key: 'ka', outcome: 'rendered', costUsd: 0.15 });
        await a.ledger.scene(run, { episodeId: 'e', sceneId: 'c', key: 'kc', outcome: 'cached' });
        await b.renders.claim(req('kb', 'b'));
        await b.renders.markSubmitting('kb');
        await b.renders.markInFlight('kb', 'pred-b');
        await b.ledger.scene(run, { episodeId: 'e', sceneId: 'a', key: 'ka', outcome: 'cached' }); // a's render stays a's
        clock.now += LEASE / 2;
        await a.renders.renew();
        const beatA = clock.now;
        clock.now += LEASE / 2 + 1_000; // b stopped beating: lapsed; a beat halfway
        const unnamed = await a.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 });
        const workers = await a.admin.workers(10);
        expect(workers.map((w) => ({ runId: w.runId, runName: w.runName, owner: w.owner, host: w.host, beat: w.lastHeartbeat, done: w.scenesDone, claimed: w.claimed, inFlight: w.inFlight, state: w.state }))).toEqual([
          { runId: unnamed, runName: null, owner: 'host-a:101:1:a', host: 'host-a', beat: clock.now, done: 0, claimed: 0, inFlight: 0, state: 'live' },
          { runId: run, runName: 'night', owner: 'host-b:202:1:b', host: 'host-b', beat: 1_000_000, done: 0, claimed: 1, inFlight: 1, state: 'lapsed' },
          { runId: run, runName: 'night', owner: 'host-a:101:1:a', host: 'host-a', beat: beatA, done: 2, claimed: 0, inFlight: 0, state: 'live' },
        ]);
        expect(workers.every((w) => w.pid === process.pid)).toBe(true);
        // A worker that ends ends alone: the other's row is as it was.
        await a.ledger.finish(run, 'complete');
        expect((await b.admin.workers(10)).filter((w) => w.runId === run).map((w) => w.state)).toEqual(['lapsed', 'finished']);
        expect((await b.admin.workers(2)).map((w) => w.owner)).toEqual(['host-a:101:1:a', 'host-b:202:1:b']);
      });

      it('reserve holds only what fits beside spent and held in the pool and the account; settle moves a hold to spent, release gives it back', async () => {
        const { as } = await setup();
        const a = await as('host-a:1:1:a');
        const b = await as('host-b:1:1:b');
        const { id: run } = await a.ledger.joinRun(named);
        const h1 = await a.ledger.reserve(run, hold('k1', 0.4));
        const h2 = await b.ledger.reserve(run, hold('k2', 0.4, 'host-b:1:1:b'));
        expect(h1).toBeTypeOf('number');
        expect(h2).toBeTypeOf('number');
        expect(await a.ledger.reserve(run, hold('k3', 0.3))).toBeUndefined(); // 0.8 + 0.3 > 1
        expect(await a.ledger.holdTotals(run)).toEqual({ spentUsd: 0, reservedUsd: 0.8 });
        await a.ledger.settleHold(run, h1!, 0.25); // charged less than held: the rest is room again
        expect(await b.ledger.holdTotals(run)).toEqual({ spentUsd: 0.25, reservedUsd: 0.4 });
        const h3 = await a.ledger.reserve(run, hold('k3', 0.35));
        expect(h3).toBeTypeOf('number'); // 0.25 + 0.4 + 0.35 = 1: exactly the cap fits
        expect(await a.ledger.reserve(run, hold('k4', 0.01))).toBeUndefined();
        await b.ledger.releaseHold(h2!);
        expect(await a.ledger.holdTotals(run)).toEqual({ spentUsd: 0.25, reservedUsd: 0.35 });
        // Another pool has its own limit; the account's limit covers the whole run.
        expect(await a.ledger.reserve(run, { pool: 'other', key: 'k5', usd: 0.5, owner: 'host-a:1:1:a', limitUsd: 0.5 })).toBeTypeOf('number');
        expect(await a.ledger.reserve(run, { pool: 'other2', key: 'k6', usd: 0.2, owner: 'host-a:1:1:a', accountLimitUsd: 1.2 })).toBeUndefined(); // 1.1 + 0.2 > 1.2
        expect(await a.ledger.holdTotals(run, 'other')).toEqual({ spentUsd: 0, reservedUsd: 0.5 });
        // Releasing a settled hold changes nothing; settling a hold already given back still counts the charge.
        await a.ledger.releaseHold(h1!);
        await a.ledger.settleHold(run, h2!, 0.1);
        expect(await a.ledger.holdTotals(run, 'run')).toEqual({ spentUsd: 0.25, reservedUsd: 0.35 });
        expect(await a.ledger.holdTotals(run)).toEqual({ spentUsd: 0.35, reservedUsd: 0.85 });
      });

      it('a gone worker’s hold is given back only when its key is proven unsubmitted (pending); submitting, in flight or ambiguous keep it', async () => {
        const { as, clock } = await setup();
        const dead = await as('other-host:4242:1:dead');
        const live = await as('other-host:4343:1:live');
        const { id: run } = await dead.ledger.joinRun(named);
        const keys = ['pend', 'subm', 'fly', 'amb'];
        for (const k of keys) {
          await dead.renders.claim(req(k, k));
          await dead.ledger.reserve(run, { ...hold(k, 0.2, dead.renders.owner), limitUsd: undefined });
        }
        await dead.renders.markSubmitting('subm');
        await dead.renders.markSubmitting('fly');
        await dead.renders.markInFlight('fly', 'p-fly');
        await dead.renders.markSubmitting('amb');
        await dead.renders.markFailed('amb', 'no answer', { status: 'ambiguous' });
        // Its lease still runs: nothing is given back.
        expect(await live.ledger.releaseStaleHolds(run)).toBe(0);
        clock.now += LEASE + 1;
        expect(await live.ledger.releaseStaleHolds(run)).toBe(1);
        expect(await live.ledger.holdTotals(run)).toEqual({ spentUsd: 0, reservedUsd: 0.6 });
        // The gone worker may only have been paused: its claim went with its hold, so it can never submit on it.
        expect(await dead.renders.markSubmitting('pend')).toBe(false);
        expect(await live.renders.get('pend')).toMatchObject({ status: 'pending', owner: null });
        // A live worker that took a key over and holds it keeps its own hold.
        await live.renders.claim(req('subm', 'subm'));
        await live.renders.claim(req('pend', 'pend'));
        await live.ledger.reserve(run, { ...hold('pend', 0.2, live.renders.owner), limitUsd: undefined });
        expect(await live.ledger.releaseStaleHolds(run)).toBe(0);
        expect(await live.ledger.holdTotals(run)).toEqual({ spentUsd: 0, reservedUsd: 0.8 });
      });

      it('a hold a gone worker left on a key it submitted is adopted by the worker that collects it: settled once, never given back as stale', async () => {
        const { as, clock } = await setup();
        const dead = await as('other-host:4242:1:dead');
        const live = await as('other-host:4343:1:live');
        const { id: run } = await dead.ledger.joinRun(named);
        await dead.renders.claim(req('k', 'k'));
        const left = await dead.ledger.reserve(run, hold('k', 0.2, dead.renders.owner));
        await dead.renders.markSubmitting('k');
        await dead.renders.markInFlight('k', 'p-k');
        // Nothing of the live worker's own, nor of another run, nor of another key, is adopted.
        expect(await live.ledger.adoptHold(run, 'other', live.renders.owner)).toBeUndefined();
        expect(await dead.ledger.adoptHold(run, 'k', dead.renders.owner)).toBeUndefined();
        clock.now += LEASE + 1;
        await live.renders.claim(req('k', 'k'));
        expect(await live.ledger.adoptHold(run, 'k', live.renders.owner)).toEqual({ id: left, usd: 0.2 });
        expect(await live.ledger.adoptHold(run, 'k', live.renders.owner)).toBeUndefined(); // adopted once
        // The first worker, only paused, wakes up and gives its hold back: it is no longer its to give.
        await dead.ledger.releaseHold(left!, dead.renders.owner);
        expect(await live.ledger.holdTotals(run)).toEqual({ spentUsd: 0, reservedUsd: 0.2 });
        // The prediction delivered a clip too long to use, billed $0.39: the key is failed, then pending again for a new render.
        await live.ledger.settleHold(run, left!, 0.39);
        await live.renders.markFailed('k', 'lasts 12.5 s, expected 2.5 s', { paid: { deliveredSeconds: 12.5 } });
        await live.renders.claim(req('k', 'k'));
        expect(await live.ledger.releaseStaleHolds(run)).toBe(0);
        expect(await live.ledger.holdTotals(run)).toEqual({ spentUsd: 0.39, reservedUsd: 0 });
      });

      it('a scene one worker rendered stays on the run’s books when another worker of the run sees it cached or stops', async () => {
        const { as } = await setup();
        const a = await as('host-a:1:1:a');
        const b = await as('host-b:1:1:b');
        const { id: run } = await a.ledger.joinRun(named);
        const s = { episodeId: 'e', sceneId: 's', key: 'k' };
        await a.ledger.scene(run, { ...s, outcome: 'rendered', costUsd: 0.15 });
        await b.ledger.scene(run, { ...s, outcome: 'cached' });
        await b.ledger.scene(run, { ...s, outcome: 'interrupted', error: 'interrupted' });
        expect((await a.admin.recentRuns(10)).find((r) => r.run.id === run)?.run.spent_usd).toBe(0.15);
        expect(await a.ledger.charges((await a.ledger.run(run, 'wavespeed'))!)).toMatchObject([{ sceneId: 's', outcome: 'rendered', costUsd: 0.15 }]);
      });

      it('a worker that collects another worker’s prediction of the run at no charge of its own keeps the submitter’s charge on the books', async () => {
        const { as } = await setup();
        const a = await as('host-a:1:1:a');
        const b = await as('host-b:1:1:b');
        const { id: run } = await a.ledger.joinRun(named);
        const s = { episodeId: 'e', sceneId: 's', key: 'k' };
        expect(await a.ledger.reserve(run, hold('k', 0.15, a.renders.owner))).toBeDefined();
        await a.ledger.scene(run, { ...s, outcome: 'in-flight', costUsd: 0.15 }); // a submitted, then died
        await b.ledger.scene(run, { ...s, outcome: 'rendered', costUsd: 0 }); // b took the claim over and collected it
        // A scene the run rendered at its own charge still settles to what it was charged.
        const t = { episodeId: 'e', sceneId: 't', key: 'k2' };
        await a.ledger.scene(run, { ...t, outcome: 'in-flight', costUsd: 0.3 });
        await a.ledger.scene(run, { ...t, outcome: 'rendered', costUsd: 0.15 });
        // A prediction that failed is not billed: the reservation leaves the books.
        const u = { episodeId: 'e', sceneId: 'u', key: 'k3' };
        await a.ledger.scene(run, { ...u, outcome: 'in-flight', costUsd: 0.15 });
        await b.ledger.scene(run, { ...u, outcome: 'failed', costUsd: 0, error: 'prediction failed' });
        expect((await a.admin.recentRuns(10)).find((r) => r.run.id === run)?.run.spent_usd).toBe(0.3);
        // a's hold on the collected key is spent, not held for good (b held none for it).
        expect(await b.ledger.holdTotals(run)).toEqual({ spentUsd: 0.15, reservedUsd: 0 });
        expect((await a.ledger.charges((await a.ledger.run(run, 'wavespeed'))!)).sort((x, y) => x.sceneId.localeCompare(y.sceneId))).toMatchObject([
          { sceneId: 's', outcome: 'rendered', costUsd: 0.15 },
          { sceneId: 't', outcome: 'rendered', costUsd: 0.15 },
        ]);
      });

      it('many workers reserving at once never hold more than the cap together', async () => {
        const { as } = await setup();
        const workers = await Promise.all([0, 1, 2, 3].map((i) => as(`host-${i}:1:1:w${i}`)));
        const { id: run } = await workers[0].ledger.joinRun(named);
        // 4 workers × 10 tries of 0.15 against a cap of 1: at most 6 fit.
        const tries = workers.flatMap((w, i) => Array.from({ length: 10 }, (_, j) => w.ledger.reserve(run, hold(`k${i}-${j}`, 0.15, w.renders.owner))));
        const held = (await Promise.all(tries)).filter((h) => h !== undefined);
        expect(held.length).toBe(6);
        expect(await workers[1].ledger.holdTotals(run)).toEqual({ spentUsd: 0, reservedUsd: 0.9 });
      });
    });

    describe('memos', () => {
      it('the upload memo: per provider, until it ages out, forgotten on demand', async () => {
        const { as, clock } = await setup();
        const store = await as('host-a:1:1:a');
        await uploadMemoBehaves(store.uploads('wavespeed'), clock);
        await store.uploads('wavespeed').put('sha-p', 'https://cdn/ws');
        expect(await store.uploads('other').get('sha-p', 60_000)).toBeUndefined();
        // Another connection sees it.
        expect(await (await as('host-b:1:1:b')).uploads('wavespeed').get('sha-p', 60_000)).toBe('https://cdn/ws');
      });

      it('the media memo: facts of a file while its size, mtime and inode are the same', async () => {
        const { as } = await setup();
        const { files } = await as('host-a:1:1:a');
        const dir = mkdtempSync(path.join(tmpdir(), 'dl-contract-memo-'));
        const file = path.join(dir, 'a.wav');
        writeFileSync(file, 'one');
        const stats = statSync(file);
        expect(await files.get(file, stats)).toBeUndefined();
        await files.put(file, stats, { sha256: 'sha-one', probe: { format: { duration: '1.0' } } });
        expect(await files.get(file, stats)).toEqual({ sha256: 'sha-one', probe: { format: { duration: '1.0' } } });
        const other = (d: Partial<Stats>) => Object.assign(Object.create(stats) as Stats, d);
        expect(await files.get(file, other({ size: stats.size + 1 }))).toBeUndefined();
        expect(await files.get(file, other({ mtimeMs: stats.mtimeMs + 1 }))).toBeUndefined();
        expect(await files.get(file, other({ ino: stats.ino + 1 }))).toBeUndefined();
        await files.put(file, stats, { sha256: 'sha-bad', probe: null }); // undecodable: remembered as such
        expect(await files.get(file, stats)).toEqual({ sha256: 'sha-bad', probe: null });
      });
    });

    describe('transactions', () => {
      it('every write of a transaction lands together, or (it throws) none does', async () => {
        const { as } = await setup();
        const store = await as('host-a:1:1:a');
        const run = await store.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 });
        await store.renders.claim(req('k'));
        const boom = new Error('boom');
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.renders.markSubmitting('k', '{}')).toBe(true);
            await tx.ledger.scene(run, { episodeId: 'e', sceneId: 's', key: 'k', outcome: 'in-flight', costUsd: 0.3 });
            await tx.renders.recordSceneKey('e', 's', 'k', INPUTS);
            await tx.uploads('wavespeed').put('sha', 'https://cdn/x');
            expect(await tx.renders.get('k')).toMatchObject({ status: 'submitting' }); // its own writes, seen inside
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.renders.get('k')).toMatchObject({ status: 'pending', attempts: 0 });
        expect((await store.admin.recentRuns(1))[0].run.spent_usd).toBe(0);
        expect(await store.renders.lastSceneKeys([{ episodeId: 'e', sceneId: 's' }])).toEqual(new Map());
        expect(await store.uploads('wavespeed').get('sha', 60_000)).toBeUndefined();
        expect(await store.ledger.charges((await store.ledger.run(run, 'wavespeed'))!)).toEqual([]);

        const result = await store.transaction(async (tx) => {
          await tx.renders.markSubmitting('k', '{}');
          await tx.ledger.scene(run, { episodeId: 'e', sceneId: 's', key: 'k', outcome: 'in-flight', costUsd: 0.3 });
          return 'done';
        });
        expect(result).toBe('done');
        expect(await store.renders.get('k')).toMatchObject({ status: 'submitting', attempts: 1 });
        expect((await store.admin.recentRuns(1))[0].run.spent_usd).toBe(0.3);
      });

      it('a call made while a transaction is open never joins it and never sees its writes before the commit (on one connection it waits for it)', async () => {
        const { as } = await setup();
        const store = await as('host-a:1:1:a');
        await store.renders.claim(req('k'));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const order: string[] = [];
        const tx = store.transaction(async (t) => {
          await t.renders.markInFlight('k', 'p1');
          entered();
          await gate; // another caller runs now
          order.push('tx done');
          throw new Error('rolled back');
        });
        await inside; // the transaction has written, and not committed
        const meanwhile = store.renders.get('k').then((row) => {
          order.push('read');
          return row;
        });
        const write = store.renders.recordSceneKey('e', 's', 'k', INPUTS).then(() => order.push('write'));
        if (callsWaitForTransactions) {
          await Promise.resolve();
          release();
          await expect(tx).rejects.toThrow('rolled back');
          await write;
          expect(order).toEqual(['tx done', 'read', 'write']);
        } else {
          // Both finish while the transaction is still open: nothing waits for it.
          await Promise.all([meanwhile, write]);
          release();
          await expect(tx).rejects.toThrow('rolled back');
          expect(order.slice(0, 2).sort()).toEqual(['read', 'write']);
          expect(order[2]).toBe('tx done');
        }
        expect(await meanwhile).toMatchObject({ status: 'pending', prediction_id: null });
        expect(await store.renders.get('k')).toMatchObject({ status: 'pending', prediction_id: null });
        // The write outside the transaction was not rolled back with it.
        expect((await store.renders.lastSceneKeys([{ episodeId: 'e', sceneId: 's' }])).get('e/s')).toMatchObject({ key: 'k' });
        // Transactions of one store, started together, each end on their own (neither nested in the other).
        const both = await Promise.all([store.transaction(async (t) => (await t.renders.get('k'))!.status), store.transaction(async (t) => (await t.renders.getMany(['k'])).size)]);
        expect(both).toEqual(['pending', 1]);
      });
    });

    describe('admin queries', () => {
      it('stats count renders by status, memos and runs', async () => {
        const { as } = await setup();
        const store = await as('host-a:1:1:a');
        expect(await store.admin.stats()).toMatchObject({ renders: [], mediaFiles: 0, uploads: 0, runs: 0, spentUsd: 0 });
        await store.renders.claim(req('k1'));
        await store.renders.markComplete('k1', CLIP, 'p');
        await store.renders.claim(req('k2'));
        await store.renders.markComplete('k2', { ...CLIP, bytes: 50, costUsd: 0.3 }, 'p');
        await store.renders.claim(req('k3'));
        await store.uploads('wavespeed').put('sha', 'u');
        const run = await store.ledger.start({ provider: 'wavespeed', args: [], plannedUsd: 0 });
        await store.ledger.scene(run, { episodeId: 'e', sceneId: 's', key: 'k1', outcome: 'rendered', costUsd: 0.45 });
        const stats = await store.admin.stats();
        expect(stats).toMatchObject({
          renders: [
            { status: 'complete', count: 2, bytes: 150, costUsd: expect.closeTo(0.45, 9) },
            { status: 'pending', count: 1, bytes: null, costUsd: null },
          ],
          mediaFiles: 0,
          uploads: 1,
          runs: 1,
          spentUsd: 0.45,
        });
        expect(stats.storageBytes).toBeGreaterThanOrEqual(0);
      });

      it('verify and attach: complete renders, renders by key prefix with whether a live run holds them, attaching a found prediction', async () => {
        const { as, clock } = await setup();
        const store = await as('host-a:1:1:a');
        const live = await as(newOwnerId()); // this process
        await store.renders.claim(req('abc-1'));
        await store.renders.markComplete('abc-1', CLIP, 'p');
        await store.renders.claim(req('abd-2'));
        await store.renders.markSubmitting('abd-2');
        await store.renders.markInFlight('abd-2', 'p-old');
        expect(await store.renders.missedOutput('abd-2')).toBe(1);
        await store.renders.markFailed('abd-2', 'not the task of this scene', { status: 'ambiguous', forgetPrediction: true });
        await live.renders.claim(req('abe-3'));
        expect((await store.admin.completeRenders()).map((r) => r.key)).toEqual(['abc-1']);
        expect((await store.admin.rendersByKeyPrefix('ab')).map((r) => [r.row.key, r.holderAlive]).sort()).toEqual([
          ['abc-1', false],
          ['abd-2', false],
          ['abe-3', true],
        ]);
        expect(await store.admin.rendersByKeyPrefix('abd')).toHaveLength(1);
        expect(await store.admin.rendersByKeyPrefix('zz')).toEqual([]);
        clock.now += 1_000;
        await store.admin.attach('abd-2', 'pred-found');
        expect(await store.renders.get('abd-2')).toMatchObject({ status: 'in-flight', prediction_id: 'pred-found', submitted_at: clock.now, error: null, output_misses: 0, owner: null, lease_until: null });
        expect(await store.renders.predictionIds('abd-2')).toEqual(['p-old', 'pred-found']);
      });

      it('attach is a compare-and-set on the render as it was read: one a run took over meanwhile (found its task, completed it) keeps it', async () => {
        const { as } = await setup();
        const store = await as('host-a:1:1:a');
        await store.renders.claim(req('k'));
        await store.renders.markSubmitting('k', '{}');
        await store.renders.markFailed('k', 'answer lost', { status: 'ambiguous' });
        const [{ row: seen }] = await store.admin.rendersByKeyPrefix('k');
        expect(seen.status).toBe('ambiguous');
        // Meanwhile a run claims it and finds its task in the provider's list.
        await store.renders.claim(req('k'));
        await store.renders.markInFlight('k', 'p-found');
        expect(await store.admin.attach('k', 'p-operator', seen)).toBe(false);
        expect(await store.renders.get('k')).toMatchObject({ status: 'in-flight', prediction_id: 'p-found', owner: 'host-a:1:1:a' });
        await store.renders.markComplete('k', CLIP, 'p-found');
        expect(await store.admin.attach('k', 'p-operator')).toBe(false);
        expect(await store.renders.get('k')).toMatchObject({ status: 'complete', prediction_id: 'p-found' });
        // Still as it was read: attached.
        await store.renders.claim(req('k2'));
        await store.renders.markSubmitting('k2', '{}');
        await store.renders.markFailed('k2', 'answer lost', { status: 'ambiguous' });
        const [{ row: seen2 }] = await store.admin.rendersByKeyPrefix('k2');
        expect(await store.admin.attach('k2', 'p-operator', seen2)).toBe(true);
        expect(await store.renders.get('k2')).toMatchObject({ status: 'in-flight', prediction_id: 'p-operator', owner: null });
      });

      it('status: recent runs (running or not), open renders with whether their holder lives, held renders', async () => {
        const { as, clock } = await setup();
        const store = await as(newOwnerId()); // this process: alive
        const dead = await as(`${hostname()}:${DEAD_PID}::dead`);
        const runs: number[] = [];
        for (let i = 0; i < 3; i++) runs.push(await store.ledger.start({ provider: 'local', args: [], plannedUsd: 0 }));
        await store.ledger.finish(runs[0], 'complete');
        const recent = await store.admin.recentRuns(2);
        expect(recent.map((r) => [r.run.id, r.running])).toEqual([
          [runs[2], true],
          [runs[1], true],
        ]);
        expect((await store.admin.recentRuns(10)).find((r) => r.run.id === runs[0])).toMatchObject({ running: false, run: { result: 'complete', pid: process.pid } });

        const step = async (fn: () => Promise<unknown>) => {
          clock.now += 1; // listed by last change
          await fn();
        };
        await step(() => dead.renders.claim(req('d1')));
        await step(() => dead.renders.markSubmitting('d1'));
        await step(() => store.renders.claim(req('l2')));
        await step(() => store.renders.markSubmitting('l2'));
        await step(() => store.renders.claim(req('f3')));
        await step(() => store.renders.markInFlight('f3', 'p'));
        await step(() => store.renders.release('f3'));
        await step(() => store.renders.claim(req('a4')));
        await step(() => store.renders.markFailed('a4', 'x', { status: 'ambiguous' }));
        await step(() => store.renders.claim(req('c5')));
        await step(() => store.renders.markComplete('c5', CLIP));
        for (let i = 0; i < 2; i++) {
          await step(() => store.renders.claim(req('h6')));
          await step(() => store.renders.markFailed('h6', 'too long', { paid: {} }));
        }
        await step(() => store.renders.claim(req('h7')));
        await step(() => store.renders.markFailed('h7', 'once', { paid: {} }));
        expect((await store.admin.openRenders()).map((o) => [o.row.key, o.row.status, o.holderAlive])).toEqual([
          ['d1', 'submitting', false],
          ['l2', 'submitting', true],
          ['f3', 'in-flight', false],
          ['a4', 'ambiguous', false],
        ]);
        expect((await store.admin.heldRenders(2)).map((r) => r.key)).toEqual(['h6']);
        expect((await store.admin.heldRenders(1)).map((r) => r.key)).toEqual(['h6', 'h7']);
      });

      it('gc: stored clips with when they were last used, who may still use the cache, keys, awaited predictions, dropping a render', async () => {
        const { as, clock } = await setup();
        const store = await as('host-a:1:1:a');
        await store.renders.claim(req('k1', 'b'));
        await store.renders.markComplete('k1', CLIP, 'p1');
        const completed = clock.now;
        await store.renders.claim(req('k2', 'a'));
        await store.renders.markComplete('k2', { ...CLIP, path: '/c/k2.mp4' }, 'p2');
        clock.now += 60_000;
        const run = await store.ledger.start({ provider: 'local', args: [], plannedUsd: 0 });
        await store.ledger.scene(run, { episodeId: 'e', sceneId: 'b', key: 'k1', outcome: 'cached' });
        clock.now += 60_000;
        await store.ledger.finish(run, 'complete');
        expect(await store.admin.storedClips()).toEqual([
          { key: 'k2', episodeId: 'e', sceneId: 'a', clipPath: '/c/k2.mp4', clipBytes: CLIP.bytes, lastUsedAt: completed },
          { key: 'k1', episodeId: 'e', sceneId: 'b', clipPath: CLIP.path, clipBytes: CLIP.bytes, lastUsedAt: clock.now },
        ]);

        await store.renders.claim(req('k3'));
        await store.renders.markInFlight('k3', 'p3'); // resumed by a later run
        await store.renders.claim(req('k4'));
        await store.renders.markSubmitting('k4');
        await store.renders.markInFlight('k4', 'p4');
        await store.renders.markFailed('k4', 'x'); // not awaited
        expect(await store.admin.awaitedPredictions()).toEqual(new Set(['p3']));
        expect(await store.admin.renderKeys()).toEqual(new Set(['k1', 'k2', 'k3', 'k4']));

        // Who may still use it: an unfinished run of a live process here, a live claim elsewhere.
        expect(await store.admin.activeUsers()).toEqual([{ kind: 'remote', host: 'host-a', pid: '1' }]); // k3's claim, lease running
        const mine = await store.ledger.start({ provider: 'local', args: [], plannedUsd: 0 });
        clock.now += LEASE + 1_000;
        expect(await store.admin.activeUsers()).toEqual([{ kind: 'run', id: mine, pid: process.pid }]);

        await store.admin.dropRender('k1');
        await store.admin.dropRender('k3'); // not complete: kept
        expect(await store.admin.renderKeys()).toEqual(new Set(['k2', 'k3', 'k4']));
      });
    });
  });
}

/** The upload memo's rules, for any implementation (the store's, the in-memory one). */
export async function uploadMemoBehaves(memo: UploadMemo, clock: { now: number }): Promise<void> {
  expect(await memo.get('sha', 60_000)).toBeUndefined();
  await memo.put('sha', 'https://cdn/a');
  expect(await memo.get('sha', 60_000)).toBe('https://cdn/a');
  clock.now += 59_999;
  expect(await memo.get('sha', 60_000)).toBe('https://cdn/a');
  clock.now += 1;
  expect(await memo.get('sha', 60_000)).toBeUndefined(); // aged out
  await memo.put('sha', 'https://cdn/b'); // uploaded again: a new URL, a new age
  expect(await memo.get('sha', 60_000)).toBe('https://cdn/b');
  await memo.forget('sha');
  expect(await memo.get('sha', 60_000)).toBeUndefined();
  await memo.forget('never-put');
}
