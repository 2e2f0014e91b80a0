import type { WavespeedPolicy } from '../../pipeline/providers/wavespeed/policy.ts';

/** The real policy's shape with time scaled down ~1000×, so retry paths run in milliseconds. */
export const FAST_POLICY: Partial<WavespeedPolicy> = {
  maxAttempts: 5,
  backoffBaseMs: 2,
  backoffMaxMs: 20,
  retryAfterMaxMs: 300,
  pollInitialMs: 5,
  pollFactor: 1.5,
  pollMaxMs: 40,
  firstPollPerVideoSecondMs: 10,
  deadlineBaseMs: 20_000,
  deadlinePerVideoSecondMs: 1_000,
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 2_000,
  lostAnswerRecheckMs: 60,
  lostAnswerWindowMs: 2_500, // the headers timeout, with room: a request may still reach the server until then
  rateWindowMs: 60,
};
