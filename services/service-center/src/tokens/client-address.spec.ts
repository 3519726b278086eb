import {
  TrustedProxies,
  addressOfPeer,
  invalidProxyEntries,
  normalizeAddress,
} from './client-address';

describe(addressOfPeer.name, () => {
  it.each([
    ['ipv4:10.0.0.1:5123', '10.0.0.1'],
    ['ipv6:[::1]:5123', '::1'],
    ['ipv6:[2001:db8::7]:443', '2001:db8::7'],
    ['ipv6:[::ffff:10.0.0.9]:443', '10.0.0.9'],
    ['10.0.0.1', '10.0.0.1'],
    // What grpc-js itself writes: remote address and port, IPv6 unbracketed.
    ['10.0.0.1:40000', '10.0.0.1'],
    ['::ffff:10.0.0.1:40000', '10.0.0.1'],
    ['::1:40000', '::1'],
    ['2001:db8::7:8080', '2001:db8::7'],
    ['', 'unknown'],
  ])('reads %j as %j', (peer, address) => {
    expect(addressOfPeer(peer)).toBe(address);
  });
});

describe(normalizeAddress.name, () => {
  it('reads what proxies write, and nothing else', () => {
    expect(normalizeAddress(' 198.51.100.9 ')).toBe('198.51.100.9');
    expect(normalizeAddress('198.51.100.9:8080')).toBe('198.51.100.9');
    expect(normalizeAddress('[2001:DB8::1]:443')).toBe('2001:db8::1');
    expect(normalizeAddress('unknown')).toBeUndefined();
    expect(normalizeAddress('_hidden')).toBeUndefined();
    expect(normalizeAddress('1.2.3.4.5')).toBeUndefined();
  });
});

describe(TrustedProxies.name, () => {
  const PROXY = 'ipv4:10.1.2.3:40000';

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', () => {
    expect(new TrustedProxies(undefined).clientAddress(PROXY, ['198.51.100.9'])).toBe('10.1.2.3');
    const proxies = new TrustedProxies('10.0.0.0/8');
    expect(proxies.clientAddress('ipv4:192.0.2.1:1', ['198.51.100.9'])).toBe('192.0.2.1');
    expect(proxies.clientAddress(PROXY, ['198.51.100.9'])).toBe('198.51.100.9');
  });

  it('takes the rightmost hop that is not a trusted proxy, so a client cannot choose its address', () => {
    const proxies = new TrustedProxies('10.0.0.0/8, fd00::/8');
    // The client wrote "1.1.1.1" itself; the edge proxy appended the address it saw.
    expect(proxies.clientAddress(PROXY, ['1.1.1.1, 203.0.113.7, 10.9.9.9'])).toBe('203.0.113.7');
    expect(proxies.clientAddress(PROXY, ['1.1.1.1', '203.0.113.7'])).toBe('203.0.113.7');
    expect(proxies.clientAddress('ipv6:[fd00::5]:1', ['[2001:db8::2]:5555'])).toBe('2001:db8::2');
    // Only proxies all the way: the leftmost of them.
    expect(proxies.clientAddress(PROXY, ['10.7.7.7'])).toBe('10.7.7.7');
    // Garbage ends the walk at the last trusted proxy, not at an address of the client's choice.
    expect(proxies.clientAddress(PROXY, ['198.51.100.1, not-an-address'])).toBe('10.1.2.3');
    expect(proxies.clientAddress(PROXY, [])).toBe('10.1.2.3');
  });

  it('accepts addresses and CIDR ranges and names every bad entry', () => {
    expect(invalidProxyEntries('10.0.0.1, 10.0.0.0/8,fd00::/8 , ::1')).toEqual([]);
    expect(invalidProxyEntries('10.0.0.0/33,proxy.local,1.2.3.4/8/1,fd00::/129')).toEqual([
      '10.0.0.0/33',
      'proxy.local',
      '1.2.3.4/8/1',
      'fd00::/129',
    ]);
    expect(() => new TrustedProxies('proxy.local')).toThrow('proxy.local');
  });
});
