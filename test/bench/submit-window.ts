/**
 * Bench: what the account-wide submit window costs per scene. A pacer takes
 * 10,000 slots (as a Silver run does, one per submit) from an on-disk cache's
 * window and gives each back as its submit ends; CPU per slot, taken one per
 * transaction (Bronze's block) and in Silver's blocks (5% of 500 a minute).
 * The limit is set high so nothing waits: the figure is the bookkeeping alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accountId, openAccountWindow } from '../../pipeline/cache/submit-window.ts';
import { SharedSubmitPacer, blockFor } from '../../pipeline/providers/wavespeed/shared-pacer.ts';
import { realSleep } from '../../pipeline/sleep.ts';
import { quick } from './options.ts';

async function perSlot(block: number, slots: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-bench-window-'));
  const window = (await openAccountWindow({ dir, account: accountId('wavespeed', 'bench-key'), limit: 1_000_000, windowMs: 66_300 }))!;
  const pacer = new SharedSubmitPacer({ window, block, maxInFlight: 300, holdMs: 600, marginMs: 900, now: Date.now, sleep: realSleep });
  const cpu0 = process.cpuUsage();
  // 300 submits at a time, as Silver's in-flight cap allows.
  for (let done = 0; done < slots; done += 300) {
    const permits = await Promise.all(Array.from({ length: Math.min(300, slots - done) }, () => pacer.acquire()));
    for (const p of permits) {
      p.sent();
      p.answered();
      p.end();
    }
  }
  const cpu = process.cpuUsage(cpu0);
  await pacer.close();
  return (cpu.user + cpu.system) / 1000 / slots;
}

export async function benchSubmitWindow(): Promise<Record<string, string | number>> {
  const slots = quick() ? 600 : 10_000;
  const silverBlock = blockFor(500);
  return {
    slots,
    silver_block: silverBlock,
    cpu_ms_per_scene_block_1: Number((await perSlot(1, slots)).toFixed(3)),
    cpu_ms_per_scene_silver_block: Number((await perSlot(silverBlock, slots)).toFixed(3)),
  };
}
