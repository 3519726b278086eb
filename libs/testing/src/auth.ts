import { TokenIssuer, generateSigningKey, type Role } from '@cinode/auth';

export const TEST_TOKEN_SETTINGS = { issuer: 'cinode', audience: 'cinode' } as const;

/** A test token issuer and the public keys services under test verify against. */
export interface TestAuth {
  /** JWKS JSON for AUTH_JWT_PUBLIC_KEYS. */
  publicKeys: string;
  issuer: TokenIssuer;
  /** A signed token for a caller with these roles (tenant defaults to the subject). */
  token(roles: Role[], subject?: string, tenant?: string, ttlSeconds?: number): Promise<string>;
}

export async function createTestAuth(): Promise<TestAuth> {
  const key = await generateSigningKey('test-key');
  const issuer = new TokenIssuer(key, TEST_TOKEN_SETTINGS);
  return {
    publicKeys: JSON.stringify({ keys: [key.publicJwk] }),
    issuer,
    token: (roles, subject = `test-${roles.join('-')}`, tenant, ttlSeconds = 300) =>
      issuer.issue({ subject, roles, tenant, ttlSeconds }),
  };
}
