import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * `host:pid:start:nonce` — who holds a claim. `start` is the process's start
 * time as the kernel counts it (empty where unknown), so a pid reused by an
 * unrelated process is not taken for the owner; the nonce tells apart two
 * runs in one process.
 */
export function newOwnerId(pid = process.pid): string {
  return `${hostname()}:${pid}:${processStart(pid) ?? ''}:${randomBytes(4).toString('hex')}`;
}

/**
 * Whether the owner of a claim may still be working on it.
 *
 * On this host the OS answers: a live owner keeps its claim even past its
 * lease (a run stopped with Ctrl-Z or SIGSTOP is paused, not dead: taking its
 * key would let it submit a second time when continued), and a dead one
 * (kill -9) frees it at once. Elsewhere only the lease tells; the owner's own
 * compare-and-set before the submit then stops a run that lost its claim.
 */
export function ownerAlive(owner: string, leaseUntil: number, now: number): boolean {
  const parts = owner.split(':');
  const [host, pid] = parts;
  if (host !== hostname()) return leaseUntil >= now;
  const start = (parts.length >= 4 ? parts[2] : '') || undefined;
  if (!pidAlive(Number(pid), start)) return false;
  // Without the owner's start time (no /proc where it ran) a live pid may be a reused one: past a
  // long silence, take it as gone. The compare-and-set before any submit still guards the money.
  return start !== undefined && processStart(Number(pid)) !== undefined ? true : now - leaseUntil < UNPROVEN_OWNER_GRACE_MS;
}

/**
 * Whether `owner` is proven to have ended: it ran on this host and its
 * process is gone (its sockets closed with it). Another host's owner is
 * never proven gone: a lapsed lease may be a paused process.
 */
export function ownerGone(owner: string): boolean {
  const parts = owner.split(':');
  if (parts[0] !== hostname()) return false;
  const start = (parts.length >= 4 ? parts[2] : '') || undefined;
  return !pidAlive(Number(parts[1]), start);
}

/** How long past its lease a live pid of unknown start time keeps a claim. */
export const UNPROVEN_OWNER_GRACE_MS = 60 * 60_000;

/** Whether `pid` runs on this host (and, when `start` is given, is the same process that had it). */
export function pidAlive(pid: number, start?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (!stat) return true; // no /proc: the signal's answer is all there is
  if (stat.state === 'Z' || stat.state === 'X') return false; // exited, not yet reaped
  return start === undefined || stat.start === start;
}

function processStart(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** State (field 3) and start time (field 22, clock ticks since boot) from /proc/PID/stat; undefined off Linux. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], start: fields[19] };
  } catch {
    return undefined;
  }
}
