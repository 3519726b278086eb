import { SignJWT, importJWK } from 'jose';
import { UnauthenticatedError } from '@cinode/common';
import { KeyRing } from './key-ring';
import {
  NATIONAL_NODE_AUDIENCE,
  TokenIssuer,
  TokenVerifier,
  generateSigningKey,
  parseJwks,
  type SigningKey,
} from './tokens';

const SETTINGS = { issuer: 'cinode', audience: 'cinode' };

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UnauthenticatedError) return error.reason;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe(TokenVerifier.name, () => {
  let key: SigningKey;
  let issuer: TokenIssuer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    key = await generateSigningKey('k1');
    issuer = new TokenIssuer(key, SETTINGS);
    verifier = new TokenVerifier({ keys: [key.publicJwk] }, SETTINGS);
  });

  it('verifies what the issuer signs, round-tripping subject, roles, tenant, expiry and signing key', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await issuer.issue({
      subject: 'p-1',
      roles: ['provider', 'user'],
      tenant: 't-9',
      ttlSeconds: 120,
    });
    const caller = await verifier.verify(token);
    expect(caller).toMatchObject({
      subject: 'p-1',
      roles: ['provider', 'user'],
      tenant: 't-9',
      signingKeyId: 'k1',
    });
    expect(caller.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(caller.expiresAt.getTime() / 1000).toBeGreaterThanOrEqual(before + 120);
    expect(caller.expiresAt.getTime() / 1000).toBeLessThanOrEqual(
      Math.floor(Date.now() / 1000) + 120,
    );
  });

  it('defaults the tenant to the subject', async () => {
    const caller = await verifier.verify(
      await issuer.issue({ subject: 'p-2', roles: ['user'], ttlSeconds: 60 }),
    );
    expect(caller.tenant).toBe('p-2');
  });

  it('gives every token its own id', async () => {
    const claims = { subject: 'p-3', roles: ['user' as const], ttlSeconds: 60 };
    const [a, b] = await Promise.all([issuer.issue(claims), issuer.issue(claims)]);
    expect((await verifier.verify(a)).tokenId).not.toBe((await verifier.verify(b)).tokenId);
  });

  it('rejects an expired token as TOKEN_EXPIRED', async () => {
    const token = await issuer.issue({ subject: 'p-1', roles: ['user'], ttlSeconds: -30 });
    expect(await reasonOf(verifier.verify(token))).toBe('TOKEN_EXPIRED');
  });

  it('rejects another key, another issuer, and garbage as TOKEN_INVALID', async () => {
    const other = await generateSigningKey('k1');
    const tokens = [
      await new TokenIssuer(other, SETTINGS).issue({
        subject: 'p',
        roles: ['user'],
        ttlSeconds: 60,
      }),
      await new TokenIssuer(key, { ...SETTINGS, issuer: 'elsewhere' }).issue({
        subject: 'p',
        roles: ['user'],
        ttlSeconds: 60,
      }),
      'not.a.jwt',
    ];
    for (const token of tokens)
      expect(await reasonOf(verifier.verify(token))).toBe('TOKEN_INVALID');
  });

  it('refuses a token minted for the national node, and the national node refuses node tokens', async () => {
    const national = new TokenVerifier(
      { keys: [key.publicJwk] },
      { ...SETTINGS, audience: NATIONAL_NODE_AUDIENCE },
    );
    const forNational = await issuer.issue({
      subject: 'p',
      roles: ['user'],
      ttlSeconds: 60,
      audience: NATIONAL_NODE_AUDIENCE,
    });
    const forNode = await issuer.issue({ subject: 'p', roles: ['user'], ttlSeconds: 60 });
    expect(await reasonOf(verifier.verify(forNational))).toBe('TOKEN_AUDIENCE_MISMATCH');
    expect(await reasonOf(national.verify(forNode))).toBe('TOKEN_AUDIENCE_MISMATCH');
    expect((await national.verify(forNational)).subject).toBe('p');
    expect((await verifier.verify(forNode)).subject).toBe('p');
  });

  it('refuses a token naming several audiences, even when its own is among them', async () => {
    const privateKey = await importJWK(key.privateJwk, 'EdDSA');
    const token = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setIssuer(SETTINGS.issuer)
      .setAudience([SETTINGS.audience, NATIONAL_NODE_AUDIENCE])
      .setSubject('p')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(await reasonOf(verifier.verify(token))).toBe('TOKEN_AUDIENCE_MISMATCH');
  });

  it('refuses a lifetime above the maximum, and a token older than it', async () => {
    const strict = new TokenVerifier(
      { keys: [key.publicJwk] },
      { ...SETTINGS, maxLifetimeSeconds: 600, clockToleranceSeconds: 0 },
    );
    const at = (ttlSeconds: number) => issuer.issue({ subject: 'p', roles: ['user'], ttlSeconds });
    expect((await strict.verify(await at(600))).subject).toBe('p');
    expect(await reasonOf(strict.verify(await at(601)))).toBe('TOKEN_LIFETIME_TOO_LONG');
    // The default maximum is an hour: a ten-year token is refused without any configuration.
    expect(await reasonOf(verifier.verify(await at(10 * 365 * 86_400)))).toBe(
      'TOKEN_LIFETIME_TOO_LONG',
    );
    const privateKey = await importJWK(key.privateJwk, 'EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const issuedLongAgo = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setIssuer(SETTINGS.issuer)
      .setAudience(SETTINGS.audience)
      .setSubject('p')
      .setJti('j')
      .setIssuedAt(now - 700)
      .setExpirationTime(now - 700 + 600)
      .sign(privateKey);
    expect(await reasonOf(strict.verify(issuedLongAgo))).toBe('TOKEN_EXPIRED');
  });

  it('allows the configured clock tolerance around exp and iat, and no more', async () => {
    const tolerant = new TokenVerifier(
      { keys: [key.publicJwk] },
      { ...SETTINGS, clockToleranceSeconds: 30 },
    );
    const privateKey = await importJWK(key.privateJwk, 'EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const signed = (iat: number, exp: number) =>
      new SignJWT({ roles: ['user'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
        .setIssuer(SETTINGS.issuer)
        .setAudience(SETTINGS.audience)
        .setSubject('p')
        .setJti('j')
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(privateKey);
    // Expired 10 s ago, or issued 10 s "in the future" by a fast clock: within 30 s, accepted.
    expect((await tolerant.verify(await signed(now - 70, now - 10))).subject).toBe('p');
    expect((await tolerant.verify(await signed(now + 10, now + 70))).subject).toBe('p');
    expect(await reasonOf(tolerant.verify(await signed(now - 100, now - 40)))).toBe(
      'TOKEN_EXPIRED',
    );
    expect(await reasonOf(tolerant.verify(await signed(now + 60, now + 120)))).toBe(
      'TOKEN_INVALID',
    );
  });

  it('answers a token verified before from memory, until it expires or its key is gone', async () => {
    const rotating = await generateSigningKey('k-mem');
    let published = [rotating.publicJwk];
    const ring = new KeyRing([], {
      remote: { fetch: () => Promise.resolve({ keys: published, cacheForMs: 60_000 }) },
    });
    await ring.start();
    try {
      const remembering = new TokenVerifier(ring, SETTINGS);
      const token = await new TokenIssuer(rotating, SETTINGS).issue({
        subject: 'p-mem',
        roles: ['user'],
        ttlSeconds: 60,
      });
      const first = await remembering.verify(token);
      // A caller mutating its copy does not change what the next call is told.
      first.roles.push('operator');
      expect(await remembering.verify(token)).toMatchObject({ subject: 'p-mem', roles: ['user'] });
      // Answered at once, without waiting for anything.
      expect(remembering.remembered(token)).toMatchObject({ subject: 'p-mem' });
      // The key leaves the JWKS: the remembered token is refused like any other of that key.
      published = [];
      await ring.refresh();
      expect(remembering.remembered(token)).toBeUndefined();
      expect(await reasonOf(remembering.verify(token))).toBe('TOKEN_INVALID');
    } finally {
      ring.stop();
    }
  });

  it('refuses any but the canonical spelling of a token, so none is verified (or remembered) twice', async () => {
    const token = await issuer.issue({ subject: 'p-spell', roles: ['user'], ttlSeconds: 60 });
    expect((await verifier.verify(token)).subject).toBe('p-spell');
    // base64url decoders skip these; a lenient verifier accepts every one.
    for (const spelling of [
      `${token}!`,
      `${token}=`,
      `${token}====`,
      `${token.slice(0, -3)}$${token.slice(-3)}`,
    ]) {
      expect(await reasonOf(verifier.verify(spelling))).toBe('TOKEN_INVALID');
    }
    expect(await reasonOf(verifier.verify(`${token}${'A'.repeat(9_000)}`))).toBe('TOKEN_INVALID');
  });

  it('never remembers a token past its expiry', async () => {
    const privateKey = await importJWK(key.privateJwk, 'EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setIssuer(SETTINGS.issuer)
      .setAudience(SETTINGS.audience)
      .setSubject('p')
      .setJti('j-short')
      .setIssuedAt(now - 10)
      .setExpirationTime(now + 30)
      .sign(privateKey);
    const strict = new TokenVerifier(
      { keys: [key.publicJwk] },
      { ...SETTINGS, clockToleranceSeconds: 0 },
    );
    expect((await strict.verify(shortLived)).subject).toBe('p');
    // Only the clock is faked: 31 s later the remembered token has expired.
    jest.useFakeTimers({
      now: Date.now(),
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    try {
      jest.setSystemTime((now + 31) * 1000);
      expect(await reasonOf(strict.verify(shortLived))).toBe('TOKEN_EXPIRED');
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const token = await issuer.issue({ subject: 'p-1', roles: ['user'], ttlSeconds: 60 });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['operator'] })).toString(
      'base64url',
    );
    expect(await reasonOf(verifier.verify(`${header}.${forged}.${signature}`))).toBe(
      'TOKEN_INVALID',
    );
  });

  it('drops unknown roles and rejects a token left with none', async () => {
    const privateKey = await importJWK(key.privateJwk, 'EdDSA');
    const sign = (roles: unknown) =>
      new SignJWT({ roles })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
        .setIssuer(SETTINGS.issuer)
        .setAudience(SETTINGS.audience)
        .setSubject('p-4')
        .setJti('j-1')
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
    expect((await verifier.verify(await sign(['user', 'superuser']))).roles).toEqual(['user']);
    expect(await reasonOf(verifier.verify(await sign(['superuser'])))).toBe('TOKEN_INVALID');
    expect(await reasonOf(verifier.verify(await sign('operator')))).toBe('TOKEN_INVALID');
  });

  it('requires sub, exp, iat and jti', async () => {
    const privateKey = await importJWK(key.privateJwk, 'EdDSA');
    const base = () =>
      new SignJWT({ roles: ['user'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
        .setIssuer(SETTINGS.issuer)
        .setAudience(SETTINGS.audience);
    const missing = [
      await base().setJti('j').setIssuedAt().setExpirationTime('1m').sign(privateKey),
      await base().setSubject('s').setIssuedAt().setExpirationTime('1m').sign(privateKey),
      await base().setSubject('s').setJti('j').setIssuedAt().sign(privateKey),
      await base().setSubject('s').setJti('j').setExpirationTime('1m').sign(privateKey),
    ];
    // Complete, the same token verifies: each refusal above is for the missing claim.
    const complete = await base()
      .setSubject('s')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    expect((await verifier.verify(complete)).subject).toBe('s');
    for (const token of missing)
      expect(await reasonOf(verifier.verify(token))).toBe('TOKEN_INVALID');
  });

  it('accepts tokens from every published key, so keys rotate without downtime', async () => {
    const next = await generateSigningKey('k2');
    const rotating = new TokenVerifier({ keys: [key.publicJwk, next.publicJwk] }, SETTINGS);
    for (const signingKey of [key, next]) {
      const token = await new TokenIssuer(signingKey, SETTINGS).issue({
        subject: signingKey.kid,
        roles: ['user'],
        ttlSeconds: 60,
      });
      expect((await rotating.verify(token)).subject).toBe(signingKey.kid);
    }
  });
});

describe(parseJwks.name, () => {
  let key: SigningKey;

  beforeAll(async () => {
    key = await generateSigningKey('k1');
  });

  it('reads a JWKS document', () => {
    expect(parseJwks(JSON.stringify({ keys: [key.publicJwk] }))).toEqual({ keys: [key.publicJwk] });
  });

  it('wraps a single JWK into a key set', () => {
    expect(parseJwks(JSON.stringify(key.publicJwk))).toEqual({ keys: [key.publicJwk] });
  });

  it('rejects anything else', () => {
    for (const bad of ['{}', '[]', 'null', '"k"', '{"keys":{}}']) {
      expect(() => parseJwks(bad)).toThrow(/JWKS/);
    }
    expect(() => parseJwks('not json')).toThrow();
  });

  it('publishes only public material', () => {
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(key.privateJwk).toHaveProperty('d');
    expect(key.publicJwk).toMatchObject({ kid: 'k1', alg: 'EdDSA', crv: 'Ed25519', use: 'sig' });
  });
});
