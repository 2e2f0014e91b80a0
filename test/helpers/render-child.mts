/**
 * A render in its own process (for kill -9 and two-process tests): the
 * library's render() with the fast test policy, NDJSON events on stdout.
 * Usage: tsx render-child.mts '{"manifest": ..., "cacheDir": ..., "baseUrl": ..., "apiKey": ...}'
 */
import { RunEvents } from '../../pipeline/events.ts';
import { render } from '../../pipeline/run/render.ts';
import { FAST_POLICY } from './fast-policy.ts';
import type { TierSetting } from '../../pipeline/providers/wavespeed/tiers.ts';

const args = JSON.parse(process.argv[2]) as { manifest: string; cacheDir: string; baseUrl: string; apiKey: string; concurrency?: number; budgetUsd?: number; retryAmbiguous?: boolean; tier?: TierSetting; rateWindowMs?: number; rateWindowSlack?: number };
const events = new RunEvents();
events.on('event', (e) => process.stdout.write(`${JSON.stringify(e)}\n`));
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const result = await render([args.manifest], {
  provider: 'wavespeed',
  apiKey: args.apiKey,
  baseUrl: args.baseUrl,
  cacheDir: args.cacheDir,
  outDir: `${args.cacheDir}/out`,
  concurrency: args.concurrency ?? 4,
  budgetUsd: args.budgetUsd,
  policy: { ...FAST_POLICY, ...(args.rateWindowMs === undefined ? {} : { rateWindowMs: args.rateWindowMs }), ...(args.rateWindowSlack === undefined ? {} : { rateWindowSlack: args.rateWindowSlack }) },
  tier: args.tier,
  waitPollMs: 50,
  leaseMs: 2_000,
  signal: controller.signal,
  events,
  retryAmbiguous: args.retryAmbiguous,
  report: false,
});
process.exitCode = result.schedule.interrupted ? 130 : result.episodes.every((e) => e.status === 'complete') ? 0 : 1;
