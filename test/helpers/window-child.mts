/**
 * A process taking submit slots from one account's window, as many times as
 * told: prints how many it was granted. Usage:
 * tsx window-child.mts '{"dir": ..., "account": ..., "limit": 7, "tries": 10, "per": 2}'
 */
import { openAccountWindow } from '../../pipeline/cache/submit-window.ts';

const args = JSON.parse(process.argv[2]) as { dir: string; url?: string; account: string; limit: number; tries: number; per: number };
const window = (await openAccountWindow({ dir: args.dir, url: args.url, account: args.account, limit: args.limit, windowMs: 3_600_000 }))!;
let granted = 0;
for (let i = 0; i < args.tries; i++) granted += (await window.take(args.per, Date.now())).slots.length;
await window.close();
process.stdout.write(`${granted}\n`);
