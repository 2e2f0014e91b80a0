/**
 * A transaction's `tx` is good only inside its own function. A write made
 * through it later (a call left running after the function returned) used
 * to pass the store's "transaction has ended" check whenever some other
 * job's transaction happened to be open: it then joined that transaction,
 * and was committed with it or, here, rolled back with it (a lost write).
 */
import { describe, expect, it } from 'vitest';
import type { StoreParts } from '../../pipeline/cache/interfaces.ts';
import { openStore } from '../../pipeline/cache/store.ts';
import { INPUTS } from './contract.ts';

const claim = (key: string) => ({ key, inputs: INPUTS, episodeId: 'e', sceneId: key, estimateUsd: 0.15 });

describe("a transaction's tx after it ended", () => {
  it("is refused, even while another transaction is open: it never joins that one's commit or rollback", async () => {
    const store = await openStore({ dir: ':memory:', owner: 'host-a:1:1:a' });
    await store.renders.claim(claim('k1'));
    await store.renders.claim(claim('k2'));
    let stale!: StoreParts;
    await store.transaction(async (tx) => {
      stale = tx;
    });
    let late: Promise<unknown> | undefined;
    await expect(
      store.transaction(async (tx) => {
        await tx.renders.markInFlight('k2', 'p2');
        late = stale.renders.markInFlight('k1', 'p1').then(
          () => 'written',
          (error: Error) => error.message,
        );
        throw new Error('the second transaction rolls back');
      }),
    ).rejects.toThrow('rolls back');
    expect(await late).toMatch(/transaction that has ended/);
    expect(await store.renders.get('k2')).toMatchObject({ status: 'pending', prediction_id: null });
    await store.close();
  });
});
