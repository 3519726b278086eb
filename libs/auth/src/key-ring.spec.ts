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

/** A remote JWKS whose keys the test changes, counting fetches; it can fail or hang. */
class FakeRemote implements RemoteKeySource {
  keys: JWK[] = [];
  fetches = 0;
  failing = false;
  cacheForMs = 60_000;
  private held: (() => void)[] = [];
  hanging = false;

  fetch(): Promise<{ keys: JWK[]; cacheForMs: number }> {
    this.fetches += 1;
    const answer = () =>
      this.failing
        ? Promise.reject(new Error('service center unreachable'))
        : Promise.resolve({ keys: this.keys, cacheForMs: this.cacheForMs });
    if (!this.hanging) return answer();
    return new Promise<void>((resolve) => this.held.push(resolve)).then(answer);
  }

  /** Lets every hanging fetch answer. */
  release(): void {
    this.hanging = false;
    for (const resolve of this.held.splice(0)) resolve();
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

  it('never trusts a remote key as a service key', async () => {
    const remote = new FakeRemote();
    const sneaky = await generateSigningKey('s-remote', 'service');
    remote.keys = [sneaky.publicJwk];
    const ring = new KeyRing([], { remote });
    await ring.refresh();
    const forged = await new TokenIssuer(sneaky, settings).issue({
      subject: 'x',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect(await reason(new TokenVerifier(ring, settings).verify(forged))).toBe(
      'TOKEN_SCOPE_MISMATCH',
    );
  });

  it('answers a token naming an unknown key at once and learns the key in the background, once per interval', async () => {
    let clock = 1_000_000;
    const remote = new FakeRemote();
    remote.keys = [participant.publicJwk];
    const ring = new KeyRing([], { remote, now: () => clock });
    const verifier = new TokenVerifier(ring, settings);
    await ring.refresh();
    const rotated = await generateSigningKey('p-2');
    remote.keys = [participant.publicJwk, rotated.publicJwk];
    const token = await new TokenIssuer(rotated, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 60,
    });
    clock += 6_000;
    expect(await reason(verifier.verify(token))).toBe('TOKEN_INVALID');
    await ring.idle(); // the refresh that token started
    expect(remote.fetches).toBe(2);
    expect(await reason(verifier.verify(token))).toBe('accepted');

    // Within the interval, a stream of unknown key ids does not hammer the remote.
    const stranger = await generateSigningKey('p-3');
    const unknown = await new TokenIssuer(stranger, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 60,
    });
    for (let i = 0; i < 10; i += 1)
      expect(await reason(verifier.verify(unknown))).toBe('TOKEN_INVALID');
    await ring.idle();
    expect(remote.fetches).toBe(2);
  });

  it('never makes a verification wait for the remote, and refreshes one at a time', async () => {
    let clock = 0;
    const remote = new FakeRemote();
    remote.keys = [participant.publicJwk];
    const ring = new KeyRing([], { remote, now: () => clock });
    const verifier = new TokenVerifier(ring, settings);
    await ring.refresh();
    const known = await new TokenIssuer(participant, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 600,
    });
    const unknown = await new TokenIssuer(await generateSigningKey('p-9'), settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 600,
    });
    // The cache period is over and the remote hangs: every call is answered from what is known,
    // in parallel, and only one fetch is under way for all of them.
    clock += 61_000;
    remote.hanging = true;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => reason(verifier.verify(i % 2 ? known : unknown))),
    );
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'TOKEN_INVALID')).toHaveLength(10);
    expect(remote.fetches).toBe(2);
    remote.release();
    await ring.idle();
  }, 5_000);

  it('asks again soon for an unknown key when the last fetch failed (the service center was starting)', async () => {
    let clock = 0;
    const remote = new FakeRemote();
    remote.failing = true;
    const ring = new KeyRing([], { remote, now: () => clock });
    const verifier = new TokenVerifier(ring, settings);
    const token = await new TokenIssuer(participant, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 600,
    });
    expect(await reason(verifier.verify(token))).toBe('TOKEN_INVALID');
    await ring.idle();
    remote.failing = false;
    remote.keys = [participant.publicJwk];
    clock += 300;
    expect(await reason(verifier.verify(token))).toBe('TOKEN_INVALID');
    await ring.idle();
    expect(await reason(verifier.verify(token))).toBe('accepted');
    expect(remote.fetches).toBe(2);
  });

  it('keeps the keys it knows while the remote cannot be reached, up to the staleness bound', async () => {
    let clock = 0;
    const remote = new FakeRemote();
    remote.keys = [participant.publicJwk];
    const ring = new KeyRing([service.publicJwk], {
      remote,
      now: () => clock,
      maxStaleMs: 300_000,
    });
    const verifier = new TokenVerifier(ring, settings);
    await ring.refresh();
    const token = () =>
      new TokenIssuer(participant, settings).issue({
        subject: 'p',
        roles: ['user'],
        ttlSeconds: 60,
      });
    const serviceToken = await new TokenIssuer(service, settings).issue({
      subject: 'identifier',
      roles: ['service'],
      ttlSeconds: 60,
    });
    remote.failing = true;
    clock += 120_000;
    expect(await reason(verifier.verify(await token()))).toBe('accepted');
    await ring.idle();
    clock += 180_001;
    // No successful fetch for longer than the bound: the remote keys are no longer honoured;
    // static keys (configuration) are.
    expect(await reason(verifier.verify(await token()))).toBe('TOKEN_INVALID');
    expect(await reason(verifier.verify(serviceToken))).toBe('accepted');
    // The remote answers again: so are its keys.
    remote.failing = false;
    await ring.refresh();
    expect(await reason(verifier.verify(await token()))).toBe('accepted');
  });

  it('refreshes often enough that a healthy remote never goes stale, whatever its cache time', async () => {
    let clock = 0;
    const remote = new FakeRemote();
    remote.keys = [participant.publicJwk];
    remote.cacheForMs = 3_600_000;
    const ring = new KeyRing([], { remote, now: () => clock, maxStaleMs: 60_000 });
    const verifier = new TokenVerifier(ring, settings);
    await ring.refresh();
    const token = await new TokenIssuer(participant, settings).issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 600,
    });
    clock += 19_000;
    expect(await reason(verifier.verify(token))).toBe('accepted');
    await ring.idle();
    expect(remote.fetches).toBe(1);
    // A third of the staleness bound after the last fetch, the next one is due.
    clock += 2_000;
    expect(await reason(verifier.verify(token))).toBe('accepted');
    await ring.idle();
    expect(remote.fetches).toBe(2);
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
