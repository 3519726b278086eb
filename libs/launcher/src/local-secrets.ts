import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertUnreachable, generateApiKey } from '@cinode/common';
import type { SecretFormat } from '@cinode/manifest';

/** A fresh secret of the given format. */
export function newSecret(format: SecretFormat): string {
  switch (format) {
    case 'base64-32':
      // The AES-256 key size the service center's key encryption expects.
      return randomBytes(32).toString('base64');
    case 'api-key':
      return generateApiKey().key;
    default:
      return assertUnreachable(format, 'secret format');
  }
}

/**
 * Secrets kept one per file in `dir` (npm start: .data/secrets/), generated on first use and read
 * back afterwards, so a restarted node keeps e.g. its bootstrap operator's key. Names come from
 * validated manifests (lowercase letters, digits, dashes), so they are safe file names.
 */
export function fileSecrets(dir: string): (name: string, format: SecretFormat) => string {
  return (name, format) => {
    const file = join(dir, name);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${newSecret(format)}\n`, { mode: 0o600 });
    }
    return readFileSync(file, 'utf8').trim();
  };
}
