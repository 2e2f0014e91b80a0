import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Loopback, private, link-local and "this host" ranges: where a URL from a
 * manifest must not be sent by a redirect from a public server (the cloud
 * metadata service lives at 169.254.169.254). IPv4-mapped IPv6 addresses
 * (::ffff:10.0.0.1) match the IPv4 ranges.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
PRIVATE.addAddress('::', 'ipv6');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6'); // unique local
PRIVATE.addSubnet('fe80::', 10, 'ipv6'); // link-local

/** True for an IP literal in one of the ranges above. Pure. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && PRIVATE.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

export type ResolveHost = (hostname: string) => Promise<string[]>;

/** Every address a host name resolves to (the hosts file included, so `localhost` needs no network). */
export const resolveHost: ResolveHost = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

/**
 * Whether a URL's host is (or resolves to) a private address. A name that
 * does not resolve is not private: the request to it will fail on its own.
 */
export async function hostIsPrivate(url: URL, resolve: ResolveHost = resolveHost): Promise<boolean> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return isPrivateAddress(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const addresses = await resolve(host).catch(() => []);
  return addresses.some(isPrivateAddress);
}
