import { isIP } from 'node:net';

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
