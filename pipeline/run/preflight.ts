/**
 * Before the first paid submit of a run (speech or video), ask the provider's account (when it
 * has one) what the run is up against: today's price for one real scene
 * (compared with the price table) and the balance (a second cap beside the
 * budget). Nothing here is paid for.
 */
import { roundUsd } from '../cost/estimate.ts';
import type { PriceTable } from '../cost/price-table.ts';
import { DuologueError } from '../errors.ts';
import type { Plan, PlannedScene } from '../plan/index.ts';
import type { Provider } from '../providers/types.ts';

export interface PreflightOptions {
  provider: Provider;
  /** Plans the run with these prices and this balance (pure; called more than once). */
  planWith: (prices: PriceTable, balanceUsd?: number) => Plan;
  /** Go on when the live price differs from the table, reserving at the live price. */
  acceptLivePrices?: boolean;
  signal?: AbortSignal;
}

export interface Preflight {
  plan: Plan;
  /** The prices the run reserves and records at (the table, or the table scaled to the live quote). */
  prices: PriceTable;
  balanceUsd?: number;
  quote?: { scene: string; quotedUsd: number; tableUsd: number };
  /** Resolutions whose every scene to render waits for its speech: no quote could be asked for them before the run. */
  unquoted?: string[];
}

export async function preflight(options: PreflightOptions): Promise<Preflight> {
  const { provider, planWith, signal } = options;
  const table = provider.info.prices;
  const draft = planWith(table);
  const account = provider.account;
  // One scene this run would pay for at the table's prices, per resolution (a price may change at
  // one resolution only); a scene whose lines are still text has no audio to quote on yet. Nothing
  // to pay for (all cached, or nothing fits the budget): the account is not asked anything — a run
  // with nothing to pay for sends no request.
  const firsts = new Map<string, PlannedScene>();
  const waiting = new Set<string>();
  for (const s of draft.episodes.flatMap((e) => e.scenes)) {
    if (s.action !== 'render' || s.estimateUsd <= 0) continue;
    if (s.pendingSpeech.length > 0) waiting.add(s.resolution);
    else if (!firsts.has(s.resolution)) firsts.set(s.resolution, s);
  }
  // The balance is read before any paid submit, speech included: it caps speech and video alike.
  if (!account || (firsts.size === 0 && waiting.size === 0 && draft.totals.speechUsd <= 0)) return { plan: draft, prices: table };
  const unquoted = [...waiting].filter((r) => !firsts.has(r));

  const quotes: { scene: string; resolution: string; quotedUsd: number; tableUsd: number }[] = [];
  for (const s of firsts.values()) {
    quotes.push({ scene: `${s.episodeId}/${s.sceneId}`, resolution: s.resolution, quotedUsd: roundUsd(await account.quote(s, { signal })), tableUsd: s.estimateUsd });
  }
  const differing = quotes.filter((q) => q.quotedUsd !== q.tableUsd);
  let prices = table;
  if (differing.length > 0) {
    if (!options.acceptLivePrices) {
      const what = differing.map((q) => `WaveSpeed quotes $${q.quotedUsd.toFixed(4)}, the table says $${q.tableUsd.toFixed(4)} (${q.scene}, ${q.resolution})`).join('; ');
      throw new DuologueError(
        'E_PRICE',
        `${what}; price table ${table.version}; nothing was submitted. ` +
          'Update the price table (pipeline/cost/price-table.ts), or run with --accept-live-prices to go on, reserving at the quoted prices',
      );
    }
    prices = scaledTable(table, Object.fromEntries(quotes.map((q) => [q.resolution, q.quotedUsd / q.tableUsd])));
  }
  const quote = quotes[0];
  const balanceUsd = roundUsd(await account.balance({ signal }));
  return {
    plan: planWith(prices, balanceUsd),
    prices,
    balanceUsd,
    ...(quote ? { quote: { scene: quote.scene, quotedUsd: quote.quotedUsd, tableUsd: quote.tableUsd } } : {}),
    ...(unquoted.length > 0 ? { unquoted } : {}),
  };
}

/**
 * The table with each resolution's price moved by its quote's ratio (a
 * quote is for one scene, so the change is taken to be the same for every
 * length at that resolution; a resolution not quoted keeps its price).
 */
export function scaledTable(table: PriceTable, ratios: Partial<Record<string, number>>): PriceTable {
  const per = Object.fromEntries(Object.entries(table.pricePerBlock).map(([res, usd]) => [res, usd * (ratios[res] ?? 1)])) as PriceTable['pricePerBlock'];
  const moved = Object.entries(ratios).filter(([, r]) => r !== 1).map(([res, r]) => `${res} × ${roundUsd(r ?? 1)}`);
  return { ...table, version: `${table.version}${moved.length ? ` (live quote: ${moved.join(', ')})` : ''}`, pricePerBlock: per };
}

/** When the balance admits none of the episodes that need rendering: what to tell the user. */
export function unaffordable(plan: Plan): string | undefined {
  const balance = plan.budgets.find((b) => b.kind === 'balance');
  if (!balance) return undefined;
  const needing = plan.episodes.filter((e) => e.neededMaxUsd > 0);
  if (needing.length === 0 || needing.some((e) => e.admitted)) return undefined;
  if (!needing.some((e) => e.skipReason?.startsWith('over balance'))) return undefined;
  const cheapest = Math.min(...needing.map((e) => e.neededMaxUsd));
  return `the WaveSpeed account's balance ($${balance.limitUsd.toFixed(2)}) cannot pay for any episode (the cheapest needs up to $${cheapest.toFixed(2)}): nothing is submitted. Top up and run again`;
}

/** The provider, charging and reserving at other prices (the live ones the user accepted). */
export function withPrices(provider: Provider, prices: PriceTable): Provider {
  if (prices === provider.info.prices) return provider;
  return Object.create(provider, { info: { value: { ...provider.info, prices }, enumerable: true } }) as Provider;
}
