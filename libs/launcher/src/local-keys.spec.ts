import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localNodeKeys, PARTICIPANT_KEY_FILE, SERVICE_KEY_FILE } from './local-keys';

describe(localNodeKeys.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'cinode-keys-')), 'auth');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('publishes both public keys without private parts and hands services the service key', () => {
    const keys = localNodeKeys(dir);
    const jwks = JSON.parse(keys.publicKeys) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(2);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    expect(jwks.keys[0]).not.toHaveProperty('cinode_scope');
    const service = JSON.parse(keys.serviceSigningKey) as Record<string, unknown>;
    expect(service).toMatchObject({ cinode_scope: 'service', kid: jwks.keys[1].kid });
    expect(typeof service.d).toBe('string');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, SERVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('keeps the keys across runs', () => {
    const first = localNodeKeys(dir);
    const participant = readFileSync(join(dir, PARTICIPANT_KEY_FILE), 'utf8');
    expect(localNodeKeys(dir)).toEqual(first);
    expect(readFileSync(join(dir, PARTICIPANT_KEY_FILE), 'utf8')).toBe(participant);
  });
});
