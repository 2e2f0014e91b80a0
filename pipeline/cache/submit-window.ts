/**
 * The provider account's submit window, shared by every process and machine
 * on one store: a tier allows so many starts per minute to the account, not
 * to a process. Starts are granted as slots; a slot counts from when it was
 * granted until `windowMs` after, used or not, so the invariant (never more
 * than `limit` granted in any window) holds whatever the processes do with
 * them. Only this folder knows which database holds the rows.
 */
import { createHash } from 'node:crypto';
import { openPostgresWindow } from './postgres/submit-window.ts';
import { openSqliteWindow } from './sqlite/submit-window.ts';

export interface Grant {
  /** Slot ids granted now (possibly none): each allows one submit. */
  slots: number[];
  /** When none were granted: the earliest time one may be (a slot ages out, a pause ends). */
  retryAt: number;
}

export interface AccountWindow {
  /** Up to `n` slots, in one transaction taken under the account's lock. */
  take(n: number, now: number): Promise<Grant>;
  /** Slots that started nothing (unused, or refused with a 429 that proves no task): free again. */
  giveBack(slots: readonly number[]): Promise<void>;
  /**
   * A slot's start counts from `at` on, not earlier (never moves it back): a submit answered late
   * may have reached the API late, and the API counts its minute from then.
   */
  touch(slot: number, at: number): Promise<void>;
  /** A 429 with Retry-After: no process on the account takes a slot before `until`. */
  pause(until: number): Promise<void>;
  close(): Promise<void>;
}

export interface WindowOptions {
  /** Starts granted per window (the tier's videos per minute). */
  limit: number;
  /** How long a granted slot counts (the minute, plus slack and how long a slot may wait unused). */
  windowMs: number;
}

/** Salted so the stored id cannot be matched against a key guessed elsewhere; never the key itself. */
const ACCOUNT_SALT = 'duologue/submit-window/v1:';

export function accountId(provider: string, apiKey: string): string {
  return `${provider}:${createHash('sha256').update(ACCOUNT_SALT).update(apiKey).digest('hex').slice(0, 32)}`;
}

/**
 * The window on the store `dir`/`url` names, on a connection of its own (so
 * its short lock never waits behind the store's group commit), or undefined
 * for an in-memory store, which no other process can share.
 */
export async function openAccountWindow(options: { dir: string; url?: string; account: string } & WindowOptions): Promise<AccountWindow | undefined> {
  if (options.url !== undefined) return openPostgresWindow(options.url, options.account, options);
  if (options.dir === ':memory:') return undefined;
  return openSqliteWindow(options.dir, options.account, options);
}

/** The pure decision both backends make inside their lock. */
export function decide(options: { want: number; limit: number; windowMs: number; now: number; live: number; oldest: number | undefined; pausedUntil: number }): { grant: number; retryAt: number } {
  const { want, limit, windowMs, now, live, oldest, pausedUntil } = options;
  if (pausedUntil > now) return { grant: 0, retryAt: pausedUntil };
  const grant = Math.max(0, Math.min(want, limit - live));
  if (grant > 0) return { grant, retryAt: now };
  // A slot granted at t counts over [t, t + windowMs).
  return { grant: 0, retryAt: (oldest ?? now) + windowMs };
}

/**
 * The opener a provider's pacer calls (on its first submit) for the account
 * of `apiKey` on this store, or undefined when no other process can share
 * the store (in memory).
 */
export function accountWindowFor(options: { dir: string; url?: string; provider: string; apiKey: string }): ((window: WindowOptions) => Promise<AccountWindow>) | undefined {
  if (options.url === undefined && options.dir === ':memory:') return undefined;
  const account = accountId(options.provider, options.apiKey);
  return async (window) => (await openAccountWindow({ dir: options.dir, url: options.url, account, ...window }))!;
}
