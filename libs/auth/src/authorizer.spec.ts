import { Reflector } from '@nestjs/core';
import { Metadata } from '@grpc/grpc-js';
import { DomainError, UnauthenticatedError } from '@cinode/common';
import { Authorizer, callerOf, optionalCallerOf } from './authorizer';
import {
  AllowAuthenticated,
  AllowPublic,
  AllowRoles,
  ServiceCallers,
  accessRuleOf,
} from './decorators';
import { TokenIssuer, TokenVerifier, generateSigningKey } from './tokens';

const SETTINGS = { issuer: 'cinode', audience: 'cinode' };

class Handlers {
  @AllowPublic()
  discover(): void {}

  @AllowAuthenticated()
  whoAmI(): void {}

  @AllowRoles('operator')
  certify(): void {}

  @AllowRoles('service', 'operator')
  @ServiceCallers('service-center')
  hold(): void {}

  undeclared(): void {}
}

@AllowRoles('regulator')
class RegulatorOnly {
  report(): void {}

  @AllowPublic()
  ping(): void {}
}

/** What the call pipeline does for a handler: resolve its rule, then authorize. */
async function check(
  authorizer: Authorizer,
  cls: new () => object,
  handler: (...args: never[]) => unknown,
  metadata: Metadata,
): Promise<boolean> {
  const rule = accessRuleOf(new Reflector(), handler, cls);
  await authorizer.authorize(rule, metadata, `/test.v1.Handlers/${handler.name}`);
  return true;
}

function withToken(token?: string): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

async function denial(promise: Promise<unknown>): Promise<{ kind: string; reason: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { kind: error.kind, reason: error.reason };
    throw error;
  }
  throw new Error('the authorizer let the call in');
}

describe(Authorizer.name, () => {
  let authorizer: Authorizer;
  let issuer: TokenIssuer;
  /** Signs the node's service tokens (a key of scope `service` grants that role alone). */
  let serviceIssuer: TokenIssuer;

  beforeAll(async () => {
    const key = await generateSigningKey('k1');
    const serviceKey = await generateSigningKey('svc-1', 'service');
    issuer = new TokenIssuer(key, SETTINGS);
    serviceIssuer = new TokenIssuer(serviceKey, SETTINGS);
    authorizer = new Authorizer(
      new TokenVerifier({ keys: [key.publicJwk, serviceKey.publicJwk] }, SETTINGS),
    );
  });

  const token = (roles: Parameters<TokenIssuer['issue']>[0]['roles']) =>
    issuer.issue({ subject: 's-1', roles, ttlSeconds: 60 });
  const { prototype: h } = Handlers;

  it('lets anyone call a public RPC without a token, and knows the caller when one is presented', async () => {
    const anonymous = withToken();
    await expect(check(authorizer, Handlers, h.discover, anonymous)).resolves.toBe(true);
    expect(optionalCallerOf(anonymous)).toBeUndefined();
    const identified = withToken(await token(['operator']));
    await expect(check(authorizer, Handlers, h.discover, identified)).resolves.toBe(true);
    expect(optionalCallerOf(identified)).toMatchObject({ subject: 's-1', roles: ['operator'] });
  });

  it('refuses a public RPC called with a bad token rather than treating it as anonymous', async () => {
    expect(
      await denial(check(authorizer, Handlers, h.discover, withToken('garbage'))),
    ).toMatchObject({
      kind: 'UNAUTHENTICATED',
    });
  });

  it('lets any authenticated caller call an AllowAuthenticated RPC and attaches the caller', async () => {
    const metadata = withToken(await token(['user']));
    await expect(check(authorizer, Handlers, h.whoAmI, metadata)).resolves.toBe(true);
    expect(callerOf(metadata)).toMatchObject({ subject: 's-1', roles: ['user'] });
    expect(await denial(check(authorizer, Handlers, h.whoAmI, withToken()))).toEqual({
      kind: 'UNAUTHENTICATED',
      reason: 'TOKEN_MISSING',
    });
  });

  it('checks roles for an AllowRoles RPC', async () => {
    await expect(
      check(authorizer, Handlers, h.certify, withToken(await token(['operator']))),
    ).resolves.toBe(true);
    expect(
      await denial(check(authorizer, Handlers, h.certify, withToken(await token(['user'])))),
    ).toEqual({
      kind: 'PERMISSION_DENIED',
      reason: 'ROLE_NOT_ALLOWED',
    });
  });

  it('denies an undeclared RPC before looking at the token', async () => {
    expect(
      await denial(check(authorizer, Handlers, h.undeclared, withToken(await token(['operator'])))),
    ).toEqual({
      kind: 'PERMISSION_DENIED',
      reason: 'RPC_NOT_DECLARED',
    });
  });

  it('narrows the service role to the services an RPC names, and leaves other roles alone', async () => {
    const as = (subject: string, roles: Parameters<TokenIssuer['issue']>[0]['roles']) =>
      (roles.includes('service') ? serviceIssuer : issuer).issue({
        subject,
        roles,
        ttlSeconds: 60,
      });
    await expect(
      check(authorizer, Handlers, h.hold, withToken(await as('service-center', ['service']))),
    ).resolves.toBe(true);
    expect(
      await denial(
        check(authorizer, Handlers, h.hold, withToken(await as('runtime-monitoring', ['service']))),
      ),
    ).toEqual({ kind: 'PERMISSION_DENIED', reason: 'SERVICE_NOT_ALLOWED' });
    // An operator is let in by its own role, whatever its subject.
    await expect(
      check(authorizer, Handlers, h.hold, withToken(await as('op-7', ['operator']))),
    ).resolves.toBe(true);
    expect(
      await denial(check(authorizer, Handlers, h.hold, withToken(await as('u-1', ['user'])))),
    ).toEqual({ kind: 'PERMISSION_DENIED', reason: 'ROLE_NOT_ALLOWED' });
    // Naming services for an RPC whose roles do not admit services is a declaration mistake.
    class Mistaken {
      @AllowRoles('operator')
      @ServiceCallers('service-center')
      act(): void {}
    }
    expect(() => accessRuleOf(new Reflector(), Mistaken.prototype.act, Mistaken)).toThrow(
      /narrows the service role/,
    );
  });

  it('applies a class-level rule to every method, and a method rule overrides it', async () => {
    const { prototype: r } = RegulatorOnly;
    await expect(
      check(authorizer, RegulatorOnly, r.report, withToken(await token(['regulator']))),
    ).resolves.toBe(true);
    expect(
      (
        await denial(
          check(authorizer, RegulatorOnly, r.report, withToken(await token(['operator']))),
        )
      ).reason,
    ).toBe('ROLE_NOT_ALLOWED');
    await expect(check(authorizer, RegulatorOnly, r.ping, withToken())).resolves.toBe(true);
  });
});

describe(callerOf.name, () => {
  it('refuses metadata the authorizer never verified', () => {
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer looks-valid');
    expect(() => callerOf(metadata)).toThrow(UnauthenticatedError);
  });
});
