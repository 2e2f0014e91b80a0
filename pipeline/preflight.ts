/**
 * Before the first paid submit of a run, ask the provider's account (when it
 * has one) what the run is up against: today's price for one real scene
 * (compared with the price table) and the balance (a second cap beside the
 * budget). Nothing here is paid for.
 */
import { roundUsd } from './cost/estimate.ts';
import type { PriceTable } from './cost/price-table.ts';
import { DuologueError } from './errors.ts';
import type { Plan } from './plan.ts';
import type { Provider } from './providers/types.ts';

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
}

export async function preflight(options: PreflightOptions): Promise<Preflight> {
  const { provider, planWith, signal } = options;
  const table = provider.info.prices;
  const draft = planWith(table);
  const account = provider.account;
  // A scene this run would pay for at the table's prices. None (all cached, or nothing fits the
  // budget): the account is not asked anything — a run with nothing to pay for sends no request.
  const first = draft.episodes.flatMap((e) => e.scenes).find((s) => s.action === 'render' && s.estimateUsd > 0);
  if (!account || !first) return { plan: draft, prices: table };

  const label = `${first.episodeId}/${first.sceneId}`;
  const quotedUsd = roundUsd(await account.quote(first, { signal }));
  const tableUsd = first.estimateUsd;
  let prices = table;
  if (quotedUsd !== tableUsd) {
    if (!options.acceptLivePrices) {
      throw new DuologueError(
        'E_PRICE',
        `WaveSpeed quotes $${quotedUsd.toFixed(4)}, the table says $${tableUsd.toFixed(4)} (${label}, price table ${table.version}); nothing was submitted. ` +
          'Update the price table (pipeline/cost/price-table.ts), or run with --accept-live-prices to go on, reserving at the quoted prices',
      );
    }
    prices = scaledTable(table, quotedUsd / tableUsd);
  }
  const balanceUsd = roundUsd(await account.balance({ signal }));
  return { plan: planWith(prices, balanceUsd), prices, balanceUsd, quote: { scene: label, quotedUsd, tableUsd } };
}

/**
 * The table with every price moved by the quote's ratio: the quote is for one
 * scene, so the change is taken to be the same for every length and resolution.
 */
export function scaledTable(table: PriceTable, ratio: number): PriceTable {
  const per = Object.fromEntries(Object.entries(table.pricePerBlock).map(([res, usd]) => [res, usd * ratio])) as PriceTable['pricePerBlock'];
  return { ...table, version: `${table.version} × ${roundUsd(ratio)} (live quote)`, pricePerBlock: per };
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
