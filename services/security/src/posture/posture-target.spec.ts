import { parsePostureTarget, restrictedAddressKind } from './posture-target';

describe(parsePostureTarget.name, () => {
  it.each([
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['Grpc.Example.COM:50051', { host: 'grpc.example.com', port: 50051 }],
    ['a-b.c1.example:65535', { host: 'a-b.c1.example', port: 65535 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['203.0.113.7:8443', { host: '203.0.113.7', port: 8443 }],
    ['[2001:db8::1]:443', { host: '2001:db8::1', port: 443 }],
    ['[::ffff:192.0.2.1]:443', { host: '::ffff:192.0.2.1', port: 443 }],
    [`${'a'.repeat(63)}.example:443`, { host: `${'a'.repeat(63)}.example`, port: 443 }],
  ])('accepts %s', (address, expected) => {
    expect(parsePostureTarget(address)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['example.com', /port is missing/],
    ['example.com:', /port is missing/],
    [':443', /host is missing/],
    ['example.com:0', /1 to 65535/],
    ['example.com:65536', /1 to 65535/],
    ['example.com:080', /1 to 65535/],
    ['example.com:+443', /1 to 65535/],
    ['example.com:44a', /1 to 65535/],
    ['example.com:443:443', /in brackets/],
    ['https://example.com:443', /without a scheme/],
    ['grpc://example.com:443', /without a scheme/],
    ['example.com:443/admin', /without a path/],
    ['example.com:443?x=1', /without a path/],
    ['exa mple.com:443', /spaces/],
    [' example.com:443', /spaces/],
    ['example.com:443\n', /spaces/],
    ['example.com\u0000:443', /control characters/],
    ['user@example.com:443', /user information/],
    ['2001:db8::1:443', /in brackets/],
    ['[2001:db8::1]', /expected \[ipv6\]:port/],
    ['[2001:db8::1]443', /expected \[ipv6\]:port/],
    ['[2001:db8::1:443', /not closed/],
    ['[fe80::1%eth0]:443', /zone ids/],
    ['[example.com]:443', /not an IPv6 address/],
    [`${'a'.repeat(250)}.com:443`, /longer than 253/],
    [`${'a'.repeat(64)}.example:443`, /not valid/],
    ['exa_mple.com:443', /not valid/],
    ['-example.com:443', /not valid/],
    ['example-.com:443', /not valid/],
    ['example..com:443', /not valid/],
    ['example.com.:443', /end with a dot/],
    ['10.0.0.300:443', /neither a valid IPv4 address nor a hostname/],
    ['example.com\u202e:443', /not valid/],
  ])('rejects %j', (address, message) => {
    expect(() => parsePostureTarget(address)).toThrow(message);
  });
});

describe(restrictedAddressKind.name, () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.2.3.4', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b:1::808:808', 'local-use NAT64'],
    ['2002:a00:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['192.0.0.170', 'IETF protocol assignments'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['example.com', 'not an IP address'],
  ])('refuses %s as %s', (address, kind) => {
    expect(restrictedAddressKind(address)).toContain(kind);
  });

  it.each([
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '100.63.255.255',
    '192.169.0.1',
    '223.255.255.255',
    '2001:4860:4860::8888',
    '2606:4700::1111',
    '2001::1',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '198.20.0.1',
    '192.0.1.1',
  ])('allows the public address %s', (address) => {
    expect(restrictedAddressKind(address)).toBeUndefined();
  });
});
