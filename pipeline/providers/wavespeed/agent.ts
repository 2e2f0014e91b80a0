import { Agent } from 'undici';
import type { WavespeedPolicy } from './policy.ts';

/**
 * The HTTP agent for WaveSpeed's origins (API, upload and output hosts).
 *
 * Connections per origin are capped: submits are released a minute's worth
 * at a time by the rate limiter and downloads come in waves as the list
 * shows tasks done, so an uncapped pool opened a socket per request of a
 * wave (3,118 connections for 3,000 scenes in the Silver bench) and let
 * them lapse before the next wave — a TCP (and, in production, TLS)
 * handshake per scene. A request past the cap waits in the pool, unsent;
 * its socket timeouts start when it is written, and aborting it while it
 * waits sends nothing.
 */
export function wavespeedAgent(policy: WavespeedPolicy): Agent {
  return new Agent({
    connect: { timeout: policy.connectTimeoutMs },
    headersTimeout: policy.headersTimeoutMs,
    bodyTimeout: policy.bodyTimeoutMs,
    keepAliveTimeout: 10_000,
    connections: policy.connectionsPerOrigin,
  });
}
