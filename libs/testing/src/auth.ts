import { NATIONAL_NODE_AUDIENCE, TokenIssuer, generateSigningKey, type Role } from '@cinode/auth';

export const TEST_TOKEN_SETTINGS = { issuer: 'cinode', audience: 'cinode' } as const;

/**
 * Test keys as a node has them (docs/adr/0001): a participant key, standing in for the service
 * center's, and a service key, whose tokens carry only the `service` role.
 */
export interface TestAuth {
  /** JWKS JSON for AUTH_JWT_PUBLIC_KEYS: both public keys, the service key marked as such. */
  publicKeys: string;
  /** Private JWK JSON of the service key, for AUTH_SERVICE_SIGNING_KEY. */
  serviceSigningKey: string;
  issuer: TokenIssuer;
  /**
   * A signed token for a caller with these roles (tenant defaults to the subject). `['service']`
   * tokens are signed with the service key, all others with the participant key.
   */
  token(roles: Role[], subject?: string, tenant?: string, ttlSeconds?: number): Promise<string>;
  /** The same, minted for the national node's audience (what the national node mock accepts). */
  nationalToken(roles: Role[], subject?: string): Promise<string>;
}

export async function createTestAuth(): Promise<TestAuth> {
  const participantKey = await generateSigningKey('test-key');
  const serviceKey = await generateSigningKey('test-service-key', 'service');
  const issuer = new TokenIssuer(participantKey, TEST_TOKEN_SETTINGS);
  const serviceIssuer = new TokenIssuer(serviceKey, TEST_TOKEN_SETTINGS);
  return {
    publicKeys: JSON.stringify({ keys: [participantKey.publicJwk, serviceKey.publicJwk] }),
    serviceSigningKey: JSON.stringify(serviceKey.privateJwk),
    issuer,
    token: (roles, subject = `test-${roles.join('-')}`, tenant, ttlSeconds = 300) =>
      (roles.includes('service') ? serviceIssuer : issuer).issue({
        subject,
        roles,
        tenant,
        ttlSeconds,
      }),
    nationalToken: (roles, subject = `national-${roles.join('-')}`) =>
      (roles.includes('service') ? serviceIssuer : issuer).issue({
        subject,
        roles,
        ttlSeconds: 300,
        audience: NATIONAL_NODE_AUDIENCE,
      }),
  };
}
