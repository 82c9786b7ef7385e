import { BlockList, isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';

/**
 * Who is asking, as far as the network can tell: the key of the per-client rate limits and wait bounds.
 *
 * The socket's peer address is the client, unless that peer is one of the configured reverse proxies
 * (TRUSTED_PROXIES); only then is X-Forwarded-For read, from the right, skipping the trusted hops: the first
 * address that is not a trusted proxy is the client. Everything left of it was written by the client and is
 * ignored, so a client can never choose its own key by sending the header (with no proxy configured, it is
 * never read at all).
 */
export interface ClientAddressOptions {
  /** IP addresses and CIDR ranges (config TRUSTED_PROXIES). */
  trustedProxies: readonly string[];
}

export function trustList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is 1.2.3.4. */
const unmapped = (address: string): string => {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
};

const family = (address: string): 'ipv4' | 'ipv6' | undefined => {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
};

/** Picks the client out of the peer address and X-Forwarded-For (see the module comment). */
export function resolveClientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: BlockList): string {
  const start = peer ? unmapped(peer) : undefined;
  if (!start || !family(start)) return 'unknown';
  const isTrusted = (a: string) => trusted.check(a, family(a));
  if (!isTrusted(start) || !forwardedFor) return start;
  let client = start;
  const hops = forwardedFor.split(',').map((h) => unmapped(h.trim().replace(/^\[(.*)\]$/, '$1')));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // Garbage can only come from the client's side of the chain: stop at the last hop we could vouch for.
    if (!family(hop)) break;
    client = hop;
    if (!isTrusted(hop)) break;
  }
  return client;
}

/**
 * The rate-limit key of an address. One IPv6 host usually owns a whole /64 (privacy addresses, SLAAC), so an
 * IPv6 client is its /64; an IPv4 client is its address.
 */
export function addressKey(address: string): string {
  if (family(address) !== 'ipv6') return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

const peerOf = (c: Context): string | undefined =>
  (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;

/** Sets `clientAddress` for every request (peer, or the client behind a trusted proxy). */
export function clientAddress(opts: ClientAddressOptions): MiddlewareHandler<{ Variables: { clientAddress: string } }> {
  const trusted = trustList(opts.trustedProxies);
  return async (c, next) => {
    c.set('clientAddress', resolveClientAddress(peerOf(c), c.req.header('x-forwarded-for'), trusted));
    await next();
  };
}
