import type { Dispatcher } from 'undici';
import { DEFAULTS } from '../../defaults.ts';
import { realSleep, type Sleep } from '../../sleep.ts';
import { wavespeedAgent } from './agent.ts';
import type { HttpDeps } from './http.ts';
import { DEFAULT_POLICY, type WavespeedPolicy } from './policy.ts';
import { redactKey } from './redact.ts';

/** How a WaveSpeed client (video or speech) reaches the API: the same options for both. */
export interface WavespeedConnectionOptions {
  apiKey: string;
  /** @default https://api.wavespeed.ai (env WAVESPEED_BASE_URL) */
  baseUrl?: string;
  /** @default one keep-alive Agent with the policy's timeouts and connection cap (agent.ts) */
  dispatcher?: Dispatcher;
  policy?: Partial<WavespeedPolicy>;
  sleep?: Sleep;
  now?: () => number;
  /** Monotonic ms, read with `now` for a submit's send deadline. @default performance.now */
  monotonic?: () => number;
  random?: () => number;
  onRetry?: HttpDeps['onRetry'];
}

/** What the client's parts share: the HTTP collaborators and where the key may go. */
export interface ApiContext {
  deps: HttpDeps;
  policy: WavespeedPolicy;
  /** An absolute URL on the API's origin. */
  apiUrl: (path: string) => string;
  /** Headers for a URL: the Authorization header only for the API's own origin. */
  headersFor: (url: string, extra?: Record<string, string>) => Record<string, string>;
}

/**
 * The context every WaveSpeed client (video, speech) builds the same way, so
 * the rule "the key goes to the API's origin only, and never into an error"
 * is written once: `redact` strips the key from whatever a call throws.
 */
export function apiContext(base: URL, apiKey: string, deps: HttpDeps, policy: WavespeedPolicy): { ctx: ApiContext; redact: <T>(promise: Promise<T>) => Promise<T> } {
  const apiUrl = (p: string) => new URL(p, base).toString();
  const headersFor = (url: string, extra: Record<string, string> = {}) =>
    new URL(url).origin === base.origin ? { ...extra, authorization: `Bearer ${apiKey}` } : extra;
  const redact = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      redactKey(error, apiKey);
      throw error;
    });
  return { ctx: { deps, policy, apiUrl, headersFor }, redact };
}

export interface Connection {
  ctx: ApiContext;
  /** Strips the key from whatever the promise throws. */
  redact: <T>(promise: Promise<T>) => Promise<T>;
  /** Closes the dispatcher when the connection made it (a passed-in one belongs to the caller). */
  close: () => Promise<void>;
}

/** Options → policy, dispatcher, HTTP collaborators and the API context: how every WaveSpeed client starts. */
export function connect(options: WavespeedConnectionOptions): Connection {
  const policy: WavespeedPolicy = { ...DEFAULT_POLICY, ...options.policy };
  const base = new URL(options.baseUrl ?? DEFAULTS.baseUrl);
  const dispatcher = options.dispatcher ?? wavespeedAgent(policy);
  const deps: HttpDeps = {
    dispatcher,
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    monotonic: options.monotonic,
    policy,
    onRetry: options.onRetry,
  };
  // Auth only for the API's own origin; any other host gets no key, and no error carries it.
  const { ctx, redact } = apiContext(base, options.apiKey, deps, policy);
  return { ctx, redact, close: async () => (options.dispatcher ? undefined : dispatcher.close()) };
}
