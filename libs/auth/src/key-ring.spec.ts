import type { JWK } from 'jose';
import { KeyRing, type RemoteKeySource } from './key-ring';
import {
  NATIONAL_NODE_AUDIENCE,
  ServiceTokenSource,
  TokenIssuer,
  TokenVerifier,
  generateSigningKey,
  signingKeyFromPrivateJwk,
  type SigningKey,
} from './tokens';

const settings = { issuer: 'cinode', audience: 'cinode' };

/** A remote JWKS whose keys the test changes, counting fetches. */
class FakeRemote implements RemoteKeySource {
  keys: JWK[] = [];
  fetches = 0;
  failing = false;

  fetch(): Promise<{ keys: JWK[]; cacheForMs: number }> {
    this.fetches += 1;
    if (this.failing) return Promise.reject(new Error('service center unreachable'));
    return Promise.resolve({ keys: this.keys, cacheForMs: 60_000 });
  }
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return (error as { reason?: string }).reason ?? String(error);
  }
}

describe(KeyRing.name, () => {
  let participant: SigningKey;
  let service: SigningKey;

  beforeAll(async () => {
    participant = await generateSigningKey('p-1');
    service = await generateSigningKey('s-1', 'service');
  });

  it('lets a service key sign only service tokens, and a participant key never the service role', async () => {
    const verifier = new TokenVerifier(
      new KeyRing([participant.publicJwk, service.publicJwk]),
      settings,
    );
    const byService = new TokenIssuer(service, settings);
    const byParticipant = new TokenIssuer(participant, settings);
    expect(
      await reason(
        verifier.verify(
          await byService.issue({ subject: 'identifier', roles: ['service'], ttlSeconds: 60 }),
        ),
      ),
    ).toBe('accepted');
    expect(
      await reason(
        verifier.verify(
          await byService.issue({ subject: 'x', roles: ['operator'], ttlSeconds: 60 }),
        ),
      ),
    ).toBe('TOKEN_SCOPE_MISMATCH');
    expect(
      await reason(
        verifier.verify(
          await byService.issue({ subject: 'x', roles: ['service', 'operator'], ttlSeconds: 60 }),
        ),
      ),
    ).toBe('TOKEN_SCOPE_MISMATCH');
    expect(
      await reason(
        verifier.verify(
          await byParticipant.issue({ subject: 'x', roles: ['service'], ttlSeconds: 60 }),
        ),
      ),
    ).toBe('TOKEN_SCOPE_MISMATCH');
    expect(
      await reason(
        verifier.verify(
          await byParticipant.issue({ subject: 'p', roles: ['provider'], ttlSeconds: 60 }),
        ),
      ),
    ).toBe('accepted');
  });

  it('fetches a rotated-in remote key when a token names it, and never trusts a remote key as a service key', async () => {
    let clock = 1_000_000;
    const remote = new FakeRemote();
    remote.keys = [participant.publicJwk];
    const verifier = new TokenVerifier(new KeyRing([], remote, () => clock), settings);
    const first = new TokenIssuer(participant, settings);
    expect(
      await reason(
        verifier.verify(await first.issue({ subject: 'p', roles: ['user'], ttlSeconds: 60 })),
      ),
    ).toBe('accepted');
    expect(remote.fetches).toBe(1);

    const rotated = await generateSigningKey('p-2');
    remote.keys = [participant.publicJwk, rotated.publicJwk];
    const second = new TokenIssuer(rotated, settings);
    const token = await second.issue({ subject: 'p', roles: ['user'], ttlSeconds: 60 });
    // Within the minimum refresh interval an unknown kid does not hammer the service center.
    expect(await reason(verifier.verify(token))).toBe('TOKEN_INVALID');
    clock += 6_000;
    expect(await reason(verifier.verify(token))).toBe('accepted');
    expect(remote.fetches).toBe(2);

    const sneaky = await generateSigningKey('s-remote', 'service');
    remote.keys = [sneaky.publicJwk];
    clock += 6_000;
    const forged = await new TokenIssuer(sneaky, settings).issue({
      subject: 'x',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect(await reason(verifier.verify(forged))).toBe('TOKEN_SCOPE_MISMATCH');
  });

  it('asks again soon for an unknown key when the last fetch failed (the service center was starting)', async () => {
    let clock = 0;
    const remote = new FakeRemote();
    remote.failing = true;
    const verifier = new TokenVerifier(new KeyRing([], remote, () => clock), settings);
    const token = await new TokenIssuer(participant, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 600,
    });
    expect(await reason(verifier.verify(token))).toBe('TOKEN_INVALID');
    remote.failing = false;
    remote.keys = [participant.publicJwk];
    clock += 300;
    expect(await reason(verifier.verify(token))).toBe('accepted');
  });

  it('keeps the keys it knows when the remote cannot be reached', async () => {
    let clock = 0;
    const remote = new FakeRemote();
    remote.keys = [participant.publicJwk];
    const verifier = new TokenVerifier(new KeyRing([], remote, () => clock), settings);
    const token = await new TokenIssuer(participant, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 600,
    });
    expect(await reason(verifier.verify(token))).toBe('accepted');
    remote.failing = true;
    clock += 120_000;
    expect(await reason(verifier.verify(token))).toBe('accepted');
  });
});

describe(ServiceTokenSource.name, () => {
  it('mints service tokens from the private JWK and reuses them', async () => {
    const key = await generateSigningKey('s-2', 'service');
    const source = new ServiceTokenSource(
      'identifier',
      signingKeyFromPrivateJwk(JSON.stringify(key.privateJwk)),
      settings,
    );
    const token = await source.token();
    expect(await source.token()).toBe(token);
    const caller = await new TokenVerifier({ keys: [key.publicJwk] }, settings).verify(token);
    expect(caller).toMatchObject({ subject: 'identifier', roles: ['service'] });
  });

  it("mints one token per audience, the node's own unless another is named", async () => {
    const key = await generateSigningKey('s-4', 'service');
    const source = new ServiceTokenSource('identifier', key, settings);
    const own = await source.token();
    const national = await source.token(NATIONAL_NODE_AUDIENCE);
    expect(national).not.toBe(own);
    expect(await source.token(NATIONAL_NODE_AUDIENCE)).toBe(national);
    const node = new TokenVerifier({ keys: [key.publicJwk] }, settings);
    const nationalNode = new TokenVerifier(
      { keys: [key.publicJwk] },
      { ...settings, audience: NATIONAL_NODE_AUDIENCE },
    );
    expect((await node.verify(own)).subject).toBe('identifier');
    expect((await nationalNode.verify(national)).subject).toBe('identifier');
    expect(await reason(node.verify(national))).toBe('TOKEN_AUDIENCE_MISMATCH');
    expect(await reason(nationalNode.verify(own))).toBe('TOKEN_AUDIENCE_MISMATCH');
  });

  it('says clearly when no service key is configured', async () => {
    await expect(new ServiceTokenSource('x', undefined, settings).token()).rejects.toThrow(
      'AUTH_SERVICE_SIGNING_KEY',
    );
  });

  it('refuses a public JWK as a signing key', async () => {
    const key = await generateSigningKey('s-3', 'service');
    expect(() => signingKeyFromPrivateJwk(JSON.stringify(key.publicJwk))).toThrow('private JWK');
  });
});
