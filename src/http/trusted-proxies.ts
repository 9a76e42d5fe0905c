import net from 'node:net';
import type { Context } from 'hono';

// X-Forwarded-Host/-Proto/-Prefix are believed only from the proxies named in --forwarded-allow-ips
// (uvicorn's flag and FORWARDED_ALLOW_IPS env var): anyone else could make Cairn hand out URLs that
// point at their own host. The default trusts loopback only, where a reverse proxy on the same
// machine sits; a proxy elsewhere must be named.

export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.1.2.3`, `10.0.0.0/8`, `::1` or `fd00::/8`; undefined when it is none of those. */
export function parseAddressRange(entry: string): AddressRange | undefined {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const version = net.isIP(address);
  if (!version) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Whether a peer address is one of the trusted proxies; `*` trusts every peer. */
export function trustedProxies(entries: string[]): (peer: string | undefined) => boolean {
  if (entries.includes('*')) return () => true;
  const list = new net.BlockList();
  for (const entry of entries) {
    const range = parseAddressRange(entry);
    if (range) list.addSubnet(range.address, range.prefix, range.family);
  }
  return (peer) => {
    if (!peer) return false;
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer)?.[1];
    const address = mapped ?? peer;
    const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
    return !!family && list.check(address, family);
  };
}

/** The address of the peer that sent this request (the proxy, if there is one), under @hono/node-server. */
export function peerAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}
