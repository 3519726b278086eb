import { API_KEY_PATTERN, isEncryptionKeyText } from '@cinode/common';

export const GENERATE_ENV_FILE = 'deploy/generate-env.mjs';

/** The `NAME='value'` lines generate-env.mjs prints, as a map. */
export function parseEnvLines(output: string): Map<string, string> {
  const variables = new Map<string, string>();
  for (const match of output.matchAll(/^([A-Z][A-Z0-9_]*)='([^']*)'$/gm))
    variables.set(match[1], match[2]);
  return variables;
}

/**
 * Where the keys deploy/generate-env.mjs prints disagree with what the compose file requires and
 * the services accept: every variable compose requires (`${NAME:?...}`) is printed, the bootstrap
 * operator's key is a cinode API key (API_KEY_PATTERN of @cinode/common, which the service
 * center checks it against) and the key-encryption keys are what the services accept
 * (`isEncryptionKeyText`).
 */
export function composeEnvDisagreements(generated: string, composeText: string): string[] {
  const problems: string[] = [];
  const printed = parseEnvLines(generated);
  const required = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]));
  for (const name of required) {
    if (!printed.has(name))
      problems.push(
        `${GENERATE_ENV_FILE}: does not print ${name}, which deploy/compose.yaml requires`,
      );
  }
  const operatorKey = printed.get('CINODE_OPERATOR_BOOTSTRAP_KEY');
  if (operatorKey !== undefined && !API_KEY_PATTERN.test(operatorKey))
    problems.push(
      `${GENERATE_ENV_FILE}: CINODE_OPERATOR_BOOTSTRAP_KEY ${operatorKey} does not match API_KEY_PATTERN of @cinode/common`,
    );
  for (const name of ['CINODE_SIGNING_KEY_ENCRYPTION_KEY', 'CINODE_REPORT_KEY_ENCRYPTION_KEY']) {
    const encryptionKey = printed.get(name);
    if (encryptionKey !== undefined && !isEncryptionKeyText(encryptionKey))
      problems.push(
        `${GENERATE_ENV_FILE}: ${name} is not 32 random bytes of base64 (isEncryptionKeyText of @cinode/common)`,
      );
  }
  return problems;
}
