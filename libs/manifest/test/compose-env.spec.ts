import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { COMPOSE_FILE } from './agreement/compose-agreement';
import {
  composeEnvDisagreements,
  GENERATE_ENV_FILE,
  parseEnvLines,
} from './agreement/compose-env-agreement';
import { readWorkspaceFile, WORKSPACE_ROOT } from './agreement/workspace-files';

const compose = readWorkspaceFile(COMPOSE_FILE);

function generateEnv(): string {
  return execFileSync(process.execPath, [join(WORKSPACE_ROOT, GENERATE_ENV_FILE)], {
    encoding: 'utf8',
  });
}

describe(GENERATE_ENV_FILE, () => {
  it('prints every key compose requires, an operator key the service center accepts and a 32-byte encryption key', () => {
    const output = generateEnv();
    expect(parseEnvLines(output).get('CINODE_OPERATOR_BOOTSTRAP_KEY')).toBeDefined();
    expect(composeEnvDisagreements(output, compose)).toEqual([]);
  });

  it('prints fresh keys on every run', () => {
    const [first, second] = [generateEnv(), generateEnv()].map(parseEnvLines);
    expect(first.get('CINODE_OPERATOR_BOOTSTRAP_KEY')).not.toBe(
      second.get('CINODE_OPERATOR_BOOTSTRAP_KEY'),
    );
  });
});

describe(composeEnvDisagreements.name, () => {
  const good = [
    `CINODE_SERVICE_SIGNING_KEY='{}'`,
    `CINODE_JWT_PUBLIC_KEYS='{"keys":[]}'`,
    `CINODE_SIGNING_KEY_ENCRYPTION_KEY='${randomBytes(32).toString('base64')}'`,
    `CINODE_REPORT_KEY_ENCRYPTION_KEY='${randomBytes(32).toString('base64')}'`,
    `CINODE_OPERATOR_BOOTSTRAP_KEY='cin_abcdefgh_${'x'.repeat(32)}'`,
  ].join('\n');

  it('accepts well-formed keys', () => {
    expect(composeEnvDisagreements(good, compose)).toEqual([]);
  });

  it('names a malformed operator key or encryption key, and a key compose requires but is not printed', () => {
    const bad = good
      .replace(/cin_abcdefgh_x+/, 'cin_short_key')
      .replace(/ENCRYPTION_KEY='[^']*'/g, `ENCRYPTION_KEY='${Buffer.alloc(16).toString('base64')}'`)
      .replace(/^CINODE_JWT_PUBLIC_KEYS=.*$/m, '');
    expect(composeEnvDisagreements(bad, compose)).toEqual([
      'deploy/generate-env.mjs: does not print CINODE_JWT_PUBLIC_KEYS, which deploy/compose.yaml requires',
      'deploy/generate-env.mjs: CINODE_OPERATOR_BOOTSTRAP_KEY cin_short_key does not match API_KEY_PATTERN of @cinode/common',
      'deploy/generate-env.mjs: CINODE_SIGNING_KEY_ENCRYPTION_KEY is not 32 random bytes of base64 (isEncryptionKeyText of @cinode/common)',
      'deploy/generate-env.mjs: CINODE_REPORT_KEY_ENCRYPTION_KEY is not 32 random bytes of base64 (isEncryptionKeyText of @cinode/common)',
    ]);
  });
});
