import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeKeys } from './plan-node';

/** File names under the key directory; scripts/token.mjs signs with the participant key. */
export const PARTICIPANT_KEY_FILE = 'signing-key.jwk.json';
export const SERVICE_KEY_FILE = 'service-signing-key.jwk.json';

type Jwk = Record<string, unknown>;

/**
 * Local token keys, generated once into `dir` (npm start: .data/auth/; docs/adr/0001): a
 * development participant key (tokens for people, minted by `npm run token`) and the node's service
 * key (marked `cinode_scope: service`), with which services mint their own `service`-role tokens.
 */
export function localNodeKeys(dir: string): NodeKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves the mode of an existing directory alone; the private keys must not be readable.
  chmodSync(dir, 0o700);
  const participant = ensureKey(join(dir, PARTICIPANT_KEY_FILE), {});
  const service = ensureKey(join(dir, SERVICE_KEY_FILE), { cinode_scope: 'service' });
  return {
    publicKeys: JSON.stringify({ keys: [publicHalf(participant), publicHalf(service)] }),
    serviceSigningKey: JSON.stringify(service),
  };
}

function ensureKey(file: string, extra: Jwk): Jwk {
  if (!existsSync(file)) {
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order.
    const kid = createHash('sha256')
      .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
      .digest('base64url');
    writeFileSync(
      file,
      `${JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig', ...extra }, null, 2)}\n`,
      { mode: 0o600 },
    );
  }
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} is not a JWK; delete it (or run with --fresh) to generate a new key`);
  }
  return parsed as Jwk;
}

function publicHalf(jwk: Jwk): Jwk {
  return Object.fromEntries(Object.entries(jwk).filter(([key]) => key !== 'd'));
}
