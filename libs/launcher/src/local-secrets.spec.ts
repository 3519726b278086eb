import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_KEY_PATTERN } from '@cinode/common';
import { fileSecrets, newSecret } from './local-secrets';

describe(fileSecrets.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'cinode-secrets-')), 'secrets');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('generates a secret once, private to its owner, and returns the same one afterwards', () => {
    const first = fileSecrets(dir)('operator-bootstrap-key', 'api-key');
    expect(first).toMatch(API_KEY_PATTERN);
    expect(readFileSync(join(dir, 'operator-bootstrap-key'), 'utf8')).toBe(`${first}\n`);
    expect(statSync(join(dir, 'operator-bootstrap-key')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(fileSecrets(dir)('operator-bootstrap-key', 'api-key')).toBe(first);
  });
});

describe(newSecret.name, () => {
  it('makes 32 random bytes in base64 and cinode API keys', () => {
    const key = Buffer.from(newSecret('base64-32'), 'base64');
    expect(key).toHaveLength(32);
    expect(newSecret('base64-32')).not.toBe(newSecret('base64-32'));
    expect(newSecret('api-key')).toMatch(API_KEY_PATTERN);
  });
});
