import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** `host:pid:nonce` — who holds a claim. The nonce tells apart two runs of one process. */
export function newOwnerId(pid = process.pid): string {
  return `${hostname()}:${pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Whether the owner of a claim is still alive. On this host we can ask the
 * OS (a `kill -9`ed run frees its claims at once); elsewhere only the lease
 * tells.
 */
export function ownerAlive(owner: string, leaseUntil: number, now: number): boolean {
  if (leaseUntil < now) return false;
  const [host, pid] = owner.split(':');
  if (host !== hostname()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
