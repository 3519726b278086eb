import { BlockList, isIP } from 'node:net';
import { addressOfPeer, normalizeAddress } from '@cinode/grpc';

export { addressOfPeer, normalizeAddress };

/** One TOKEN_TRUSTED_PROXIES entry: an address or a CIDR range; undefined when malformed. */
function parseRange(entry: string): { address: string; prefix?: number } | undefined {
  const [address, prefix, extra] = entry.trim().split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return undefined;
  if (prefix === undefined) return { address };
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  return /^\d+$/.test(prefix) && bits <= max ? { address, prefix: bits } : undefined;
}

/** The entries of a TOKEN_TRUSTED_PROXIES value that are neither an address nor a CIDR range. */
export function invalidProxyEntries(value: string): string[] {
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && parseRange(e) === undefined);
}

/**
 * The proxies (load balancers, ingress) in front of the service center whose X-Forwarded-For is
 * believed. Anyone else can write that header, so from any other peer it is ignored.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(value: string | undefined) {
    const entries = (value ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const range = parseRange(entry);
      if (!range) throw new Error(`TOKEN_TRUSTED_PROXIES: ${entry} is no address or CIDR range`);
      const type = isIP(range.address) === 4 ? 'ipv4' : 'ipv6';
      if (range.prefix === undefined) this.list.addAddress(range.address, type);
      else this.list.addSubnet(range.address, range.prefix, type);
    }
    this.empty = entries.length === 0;
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const family = isIP(address);
    if (family === 0) return false;
    try {
      return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    } catch {
      // An address BlockList cannot read (e.g. with a zone id) is no proxy of ours.
      return false;
    }
  }

  /**
   * Who is calling: the peer, unless the peer is a trusted proxy; then the X-Forwarded-For hops are
   * read from the right (the one the nearest proxy appended) for the first address that is not a
   * trusted proxy. A malformed hop ends the walk at the last trusted proxy, so a client cannot pick
   * an address of its choosing by writing garbage.
   */
  clientAddress(peer: string, forwardedFor: readonly string[]): string {
    let address = addressOfPeer(peer);
    if (!this.has(address)) return address;
    const hops = forwardedFor
      .flatMap((header) => header.split(','))
      .map((hop) => hop.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = normalizeAddress(hops[i]);
      if (hop === undefined) return address;
      address = hop;
      if (!this.has(hop)) return hop;
    }
    return address;
  }
}
