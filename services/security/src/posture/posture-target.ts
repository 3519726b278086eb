import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Where a posture probe connects: a hostname or an IP literal (IPv6 without brackets), and a port. */
export interface PostureTarget {
  host: string;
  port: number;
}

const MAX_HOSTNAME_LENGTH = 253;
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[1-9][0-9]{0,4}$/;

/**
 * Parses a registered endpoint, `host:port` or `[ipv6]:port`. Only a bare authority is accepted:
 * what a participant registers is later dialled by the node, so anything a URL parser would
 * interpret (schemes, paths, user info, zone ids) is refused rather than guessed at.
 */
export function parsePostureTarget(address: string): PostureTarget {
  const fail = (why: string): never => {
    throw new Error(`invalid endpoint address ${JSON.stringify(address)}: ${why}`);
  };
  if (address.length === 0) fail('it is empty');
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\s\u0000-\u001f\u007f]/.test(address)) fail('it contains spaces or control characters');
  if (address.includes('://')) fail('expected host:port without a scheme such as https://');
  if (/[/?#]/.test(address)) fail('expected host:port without a path, query or fragment');
  if (address.includes('@')) fail('expected host:port without user information');

  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) fail('an IPv6 address opened with [ is not closed with ]');
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (!rest.startsWith(':')) fail('expected [ipv6]:port');
    portText = rest.slice(1);
    if (host.includes('%')) fail('IPv6 zone ids are not accepted');
    if (!isIPv6(host)) fail(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) fail('the port is missing (expected host:port)');
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':'))
      fail('IPv6 addresses must be written in brackets, e.g. [2001:db8::1]:443');
    if (host.length === 0) fail('the host is missing');
    if (host.length > MAX_HOSTNAME_LENGTH)
      fail(`the host is longer than ${MAX_HOSTNAME_LENGTH} characters`);
    host = host.toLowerCase();
    if (!isIPv4(host)) {
      const why = hostnameProblem(host);
      if (why !== undefined) fail(why);
    }
  }

  if (portText.length === 0) fail('the port is missing (expected host:port)');
  if (!PORT.test(portText))
    fail(`the port ${JSON.stringify(portText)} is not a number from 1 to 65535`);
  const port = Number(portText);
  if (port > 65535) fail(`the port ${port} is not a number from 1 to 65535`);
  return { host: host.toLowerCase(), port };
}

function hostnameProblem(host: string): string | undefined {
  if (host.endsWith('.')) return 'the host must not end with a dot';
  const labels = host.split('.');
  for (const label of labels) {
    if (!HOSTNAME_LABEL.test(label)) {
      return `the host label ${JSON.stringify(label)} is not valid (letters, digits and inner hyphens, 1 to 63 characters)`;
    }
  }
  // An all-numeric last label is never a domain name; it is a mistyped IPv4 address like 10.0.0.300.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return `${JSON.stringify(host)} is neither a valid IPv4 address nor a hostname`;
  }
  return undefined;
}

/** `host:port` for a URL or an `:authority`, with brackets around an IPv6 host. */
export function formatAuthority(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

interface Ipv4Range {
  readonly base: number;
  readonly bits: number;
  readonly kind: string;
}

function ipv4Range(cidr: string, kind: string): Ipv4Range {
  const [base = '', bits = ''] = cidr.split('/');
  return { base: ipv4ToNumber(base), bits: Number(bits), kind };
}

const RESTRICTED_IPV4: readonly Ipv4Range[] = [
  ipv4Range('0.0.0.0/8', 'unspecified ("this network")'),
  ipv4Range('10.0.0.0/8', 'private (RFC 1918)'),
  ipv4Range('100.64.0.0/10', 'carrier-grade NAT (RFC 6598)'),
  ipv4Range('127.0.0.0/8', 'loopback'),
  ipv4Range('169.254.0.0/16', 'link-local'),
  ipv4Range('172.16.0.0/12', 'private (RFC 1918)'),
  ipv4Range('192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'),
  ipv4Range('192.168.0.0/16', 'private (RFC 1918)'),
  ipv4Range('198.18.0.0/15', 'benchmarking (RFC 2544)'),
  ipv4Range('224.0.0.0/4', 'multicast'),
  ipv4Range('240.0.0.0/4', 'reserved or broadcast'),
];

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function restrictedIpv4Kind(value: number): string | undefined {
  for (const range of RESTRICTED_IPV4) {
    const size = 2 ** (32 - range.bits);
    if (Math.floor(value / size) === Math.floor(range.base / size)) return range.kind;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (which `isIPv6` accepted), zone id dropped. */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1] !== undefined) {
    const v4 = ipv4ToNumber(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function restrictedIpv6Kind(address: string): string | undefined {
  const g = ipv6Groups(address);
  const firstFiveZero = g.slice(0, 5).every((group) => group === 0);
  const embeddedV4 = (g[6] ?? 0) * 0x10000 + (g[7] ?? 0);
  if (g.every((group) => group === 0)) return 'unspecified';
  if (firstFiveZero && g[5] === 0 && g[6] === 0 && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), the deprecated IPv4-compatible form (::a.b.c.d) and the NAT64
  // well-known prefix (64:ff9b::a.b.c.d) all end up at the embedded IPv4 address.
  const embeds =
    (firstFiveZero && (g[5] === 0xffff || g[5] === 0)) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((group) => group === 0));
  if (embeds) {
    const kind = restrictedIpv4Kind(embeddedV4);
    return kind === undefined ? undefined : `${kind}, as an IPv4-embedding IPv6 address`;
  }
  const first = g[0] ?? 0;
  // 6to4 (2002:a.b.c.d::/48) embeds an IPv4 address in groups 1 and 2.
  if (first === 0x2002) {
    const kind = restrictedIpv4Kind((g[1] ?? 0) * 0x10000 + (g[2] ?? 0));
    if (kind !== undefined) return `${kind}, as a 6to4 address`;
  }
  // The local-use NAT64 prefix (RFC 8215) translates to whatever the site routes.
  if (first === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64 (RFC 8215)';
  if ((first & 0xfe00) === 0xfc00) return 'unique local (private, fc00::/7)';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'site-local (deprecated, private)';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/**
 * Why the node must not probe `address` (an IP literal) when private addresses are refused, or
 * undefined when it may. Anything that is not an IP literal is refused: only resolved addresses
 * are judged here.
 */
export function restrictedAddressKind(address: string): string | undefined {
  switch (isIP(address.split('%')[0] ?? '')) {
    case 4:
      return restrictedIpv4Kind(ipv4ToNumber(address));
    case 6:
      return restrictedIpv6Kind(address);
    default:
      return 'not an IP address';
  }
}
