import type { Caller } from '@cinode/auth';
import { baseServiceSchema, loadConfig } from '@cinode/config';
import { AccessControls, peerAddress, type AccessControlOptions } from './access-controls';

const OPEN: AccessControlOptions = {
  denyCidrs: [],
  allowCidrs: [],
  participantRatePerSecond: 0,
  participantBurst: 1,
};

const from = (remoteAddress: string) => ({ getConnectionInfo: () => ({ remoteAddress }) });

function caller(roles: Caller['roles'], tenant: string): Caller {
  return { subject: `${tenant}-sub`, roles, tenant } as Caller;
}

describe(AccessControls.name, () => {
  it('serves everyone without lists', () => {
    const controls = new AccessControls(OPEN);
    expect(controls.addressRefusal(from('203.0.113.7'))).toBeUndefined();
    expect(controls.addressRefusal({})).toBeUndefined();
  });

  it('refuses deny-listed addresses and ranges, v4, v6 and v4 written as mapped v6', () => {
    const controls = new AccessControls({
      ...OPEN,
      denyCidrs: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.9'],
    });
    for (const address of ['203.0.113.7', '::ffff:203.0.113.200', '2001:db8:1::5', '198.51.100.9'])
      expect(controls.addressRefusal(from(address))).toMatchObject({
        kind: 'PERMISSION_DENIED',
        reason: 'ADDRESS_DENIED',
      });
    for (const address of ['203.0.114.1', '198.51.100.10', '2001:db9::1', '127.0.0.1'])
      expect(controls.addressRefusal(from(address))).toBeUndefined();
  });

  it('refuses a banned IPv6 host whatever source port it picks, and a caller of unknown address', () => {
    const controls = new AccessControls({ ...OPEN, denyCidrs: ['2001:db8::bad'] });
    for (const port of [80, 1024, 5555, 9999, 65535])
      expect(controls.addressRefusal({ getPeer: () => `2001:db8::bad:${port}` })).toBeDefined();
    expect(controls.addressRefusal({ getPeer: () => '2001:db8::beef:5555' })).toBeUndefined();
    expect(controls.addressRefusal({ getPeer: () => 'unknown' })).toBeDefined();
  });

  it('with an allow list, serves only it (and a deny entry inside it still wins)', () => {
    const controls = new AccessControls({
      ...OPEN,
      allowCidrs: ['10.0.0.0/8', '::1'],
      denyCidrs: ['10.6.6.6'],
    });
    expect(controls.addressRefusal(from('10.1.2.3'))).toBeUndefined();
    expect(controls.addressRefusal(from('::1'))).toBeUndefined();
    expect(controls.addressRefusal(from('10.6.6.6'))).toBeDefined();
    expect(controls.addressRefusal(from('192.168.1.1'))).toBeDefined();
    // No address known: an allow list cannot vouch for it.
    expect(controls.addressRefusal({})).toBeDefined();
  });

  it('refuses to start on an entry that is no address or range', () => {
    expect(() => new AccessControls({ ...OPEN, denyCidrs: ['10.0.0.0/33'] })).toThrow(
      /10\.0\.0\.0\/33/,
    );
  });

  it('limits each participant to its rate after its burst, refilling with time', () => {
    const controls = new AccessControls({
      ...OPEN,
      participantRatePerSecond: 2,
      participantBurst: 3,
    });
    const provider = caller(['provider'], 'p-1');
    const t = 1_000_000;
    for (let i = 0; i < 3; i += 1) expect(controls.rateRefusal(provider, t)).toBeUndefined();
    expect(controls.rateRefusal(provider, t)).toMatchObject({
      kind: 'RESOURCE_EXHAUSTED',
      reason: 'RATE_LIMITED',
      retryAfterSeconds: 1,
    });
    // Another participant has its own bucket.
    expect(controls.rateRefusal(caller(['user'], 'u-1'), t)).toBeUndefined();
    // Half a second later: one more call (2 per second).
    expect(controls.rateRefusal(provider, t + 500)).toBeUndefined();
    expect(controls.rateRefusal(provider, t + 500)).toBeDefined();
    // The node's services, operators and regulators are not limited.
    for (const role of ['service', 'operator', 'regulator'] as const)
      for (let i = 0; i < 10; i += 1)
        expect(controls.rateRefusal(caller([role], role), t)).toBeUndefined();
  });

  it('reads the address from grpc-js peers as well, the port cut first whatever its length', () => {
    expect(peerAddress({ getPeer: () => '127.0.0.1:51234' })).toBe('127.0.0.1');
    expect(peerAddress({ getPeer: () => '::1:51234' })).toBe('::1');
    // Read whole, "2001:db8::bad:5555" is another valid IPv6 address: a ban must not slip by.
    expect(peerAddress({ getPeer: () => '2001:db8::bad:5555' })).toBe('2001:db8::bad');
    expect(peerAddress({ getPeer: () => '::1:80' })).toBe('::1');
    expect(peerAddress({ getPeer: () => '::ffff:203.0.113.9:1024' })).toBe('203.0.113.9');
    expect(peerAddress({ getPeer: () => '[2001:db8::1]:443' })).toBe('2001:db8::1');
    expect(peerAddress({ getPeer: () => 'unknown' })).toBeUndefined();
    expect(peerAddress({})).toBeUndefined();
  });
});

describe('GRPC_DENY_CIDRS and GRPC_ALLOW_CIDRS', () => {
  const definition = { service: 'demo', schema: baseServiceSchema };
  const env = {
    DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/demo',
    AUTH_JWT_PUBLIC_KEYS: '{"keys":[]}',
  };

  it('take comma-separated addresses and ranges, and name a bad entry', () => {
    const config = loadConfig(definition, { ...env, GRPC_DENY_CIDRS: '10.0.0.0/8, 2001:db8::/32' });
    expect(config.GRPC_DENY_CIDRS).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(config.GRPC_ALLOW_CIDRS).toEqual([]);
    expect(() =>
      loadConfig(definition, { ...env, GRPC_ALLOW_CIDRS: '10.0.0.0/8,not-an-ip' }),
    ).toThrow(/GRPC_ALLOW_CIDRS.*not-an-ip/);
  });
});
