import type { Dispatcher } from 'undici';
import { wavespeedAgent } from './agent.ts';
import { DEFAULTS } from '../../defaults.ts';
import { DuologueError } from '../../errors.ts';
import { realSleep, type Sleep } from '../../sleep.ts';
import type { BillingRecord, CallOptions, ProviderAccount } from '../types.ts';
import type { ApiContext } from './context.ts';
import type { WithInputs } from './fresh-inputs.ts';
import { readEnvelope, send } from './http.ts';
import { DEFAULT_POLICY, type WavespeedPolicy } from './policy.ts';
import { redactKey } from './redact.ts';

/** The model whose prices are quoted (the submit path's model). */
export const MODEL_ID = 'wavespeed-ai/infinitetalk/multi';

/** Billing records asked for per page, and the most pages read (a runaway `has_more` must end). */
const BILLING_PAGE_SIZE = 100;
const BILLING_MAX_PAGES = 1_000;

/**
 * WaveSpeed's account endpoints (DESIGN.md, "WaveSpeed API"): balance, price
 * quote, billing records. All three create nothing, so they are retried like
 * any idempotent call. `withInputs` gives a call a task's submit inputs
 * (uploading its media, memoized, so the submit that follows reuses the URLs).
 */
export function createAccount(ctx: ApiContext, withInputs?: WithInputs): ProviderAccount {
  const call = async <T>(method: 'GET' | 'POST', path: string, what: string, body: unknown, signal?: AbortSignal): Promise<T> => {
    const url = ctx.apiUrl(path);
    const json = body === undefined ? undefined : JSON.stringify(body);
    const res = await send(
      {
        method,
        url,
        label: `[${method}] "${url}"`,
        headers: ctx.headersFor(url, json === undefined ? {} : { 'content-type': 'application/json' }),
        body: json === undefined ? undefined : () => json,
        mode: 'idempotent',
        signal,
      },
      ctx.deps,
    );
    return readEnvelope<T>(res, what);
  };
  const money = (value: unknown, what: string): number => {
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new DuologueError('E_API', `${what}: expected an amount of USD, got ${JSON.stringify(value)}`);
    return n;
  };

  return {
    async balance({ signal }: CallOptions = {}) {
      const data = await call<{ balance?: unknown }>('GET', '/api/v3/balance', 'account balance', undefined, signal);
      return money(data.balance, 'account balance');
    },

    async quote(task, { signal }: CallOptions = {}) {
      if (!withInputs) throw new DuologueError('E_INTERNAL', 'price quotes need the provider (its uploads)');
      const what = `price quote for ${task.episodeId}/${task.sceneId}`;
      const data = await withInputs(task, signal, (inputs) => call<{ price?: unknown; discounted_price?: unknown }>('POST', '/api/v3/model/price', what, { model_id: MODEL_ID, inputs }, signal));
      const price = money(data.price, what);
      // A discount shows as a lower `discounted_price`; that is what is charged.
      const discounted = data.discounted_price === undefined || data.discounted_price === null ? undefined : money(data.discounted_price, what);
      return discounted !== undefined && discounted >= 0 && discounted < price ? discounted : price;
    },

    async billings({ from, to }, { signal }: CallOptions = {}) {
      const records: BillingRecord[] = [];
      for (let page = 1; page <= BILLING_MAX_PAGES; page++) {
        const body = { page, page_size: BILLING_PAGE_SIZE, start_time: new Date(from).toISOString(), end_time: new Date(to).toISOString() };
        const data = await call<{ has_more?: unknown; items?: unknown }>('POST', '/api/v3/billings/search', `billing records (page ${page})`, body, signal);
        const items = Array.isArray(data.items) ? (data.items as { price?: unknown; created_at?: unknown; prediction?: { uuid?: unknown } | null }[]) : [];
        for (const item of items) {
          const id = item.prediction?.uuid;
          if (typeof id !== 'string' || id === '') continue; // not a prediction's charge (a top-up, a refund of something else)
          records.push({ predictionId: id, usd: money(item.price, `billing record of ${id}`), createdAt: Date.parse(String(item.created_at ?? '')) });
        }
        if (data.has_more !== true || items.length === 0) return records;
      }
      throw new DuologueError('E_API', `billing records: more than ${BILLING_MAX_PAGES} pages; narrow the run's window`);
    },
  };
}

export interface AccountOptions {
  apiKey: string;
  /** @default https://api.wavespeed.ai */
  baseUrl?: string;
  dispatcher?: Dispatcher;
  policy?: Partial<WavespeedPolicy>;
  sleep?: Sleep;
}

/**
 * The account alone, for commands that submit nothing (`plan` reads the
 * balance, `status --reconcile` the billing records). The key goes only to
 * the base URL's origin.
 */
export function openAccount(options: AccountOptions): { account: ProviderAccount; close: () => Promise<void> } {
  const policy: WavespeedPolicy = { ...DEFAULT_POLICY, ...options.policy };
  const base = new URL(options.baseUrl ?? DEFAULTS.baseUrl);
  const dispatcher =
    options.dispatcher ??
    wavespeedAgent(policy);
  const ctx: ApiContext = {
    deps: { dispatcher, sleep: options.sleep ?? realSleep, random: Math.random, now: Date.now, policy },
    policy,
    apiUrl: (p) => new URL(p, base).toString(),
    headersFor: (url, extra = {}) => (new URL(url).origin === base.origin ? { ...extra, authorization: `Bearer ${options.apiKey}` } : extra),
  };
  const account = createAccount(ctx);
  const redact = <A extends unknown[], T>(fn: (...args: A) => Promise<T>) => (...args: A) =>
    fn(...args).catch((error: unknown) => {
      redactKey(error, options.apiKey);
      throw error;
    });
  return {
    account: { balance: redact(account.balance), quote: redact(account.quote), billings: redact(account.billings) },
    close: async () => {
      if (!options.dispatcher) await dispatcher.close();
    },
  };
}
