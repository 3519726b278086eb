import { BlockList, isIP } from 'node:net';

/** Longest address kept: an IPv6 address with a zone id fits; anything longer is not an address. */
const MAX_ADDRESS_CHARS = 64;

/** "ipv4:10.0.0.1:5123" or "ipv6:[::1]:5123" -> the address without the port. */
export function addressOfPeer(peer: string): string {
  if (/^(ipv4|ipv6|unix):/.test(peer)) {
    // The C-core spelling: "ipv4:1.2.3.4:80", "ipv6:[::1]:80".
    const bare = peer.replace(/^(ipv4|ipv6|unix):/, '');
    return normalizeAddress(bare) ?? (bare.slice(0, MAX_ADDRESS_CHARS) || 'unknown');
  }
  // grpc-js: `${remoteAddress}:${remotePort}`, an IPv6 address unbracketed ("::ffff:1.2.3.4:80",
  // "2001:db8::7:443"). The port is always there, so it is cut at the last colon before the address
  // is read: read whole, "2001:db8::7:443" is itself a valid IPv6 address, a different one per port.
  const colon = peer.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(peer.slice(colon + 1))) {
    const address = normalizeAddress(peer.slice(0, colon));
    if (address !== undefined) return address;
  }
  return normalizeAddress(peer) ?? (peer.slice(0, MAX_ADDRESS_CHARS) || 'unknown');
}

/**
 * An IP address as written by a peer string or a forwarding proxy ("1.2.3.4", "1.2.3.4:80",
 * "[::1]:443", "::ffff:1.2.3.4"), in one canonical spelling; undefined when it is none.
 */
export function normalizeAddress(text: string): string | undefined {
  let candidate = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(candidate);
  if (bracketed) candidate = bracketed[1];
  else if (/^[^:]+:\d+$/.test(candidate)) candidate = candidate.slice(0, candidate.indexOf(':'));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(candidate);
  if (mapped) candidate = mapped[1];
  if (candidate.length > MAX_ADDRESS_CHARS || isIP(candidate) === 0) return undefined;
  return candidate.toLowerCase();
}

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
