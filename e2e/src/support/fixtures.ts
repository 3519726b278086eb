import { randomBytes, randomInt } from 'node:crypto';

/** Base64 of 32 random bytes, e.g. for SIGNING_KEY_ENCRYPTION_KEY. */
export function generateKey32(): string {
  return randomBytes(32).toString('base64');
}

/** GB 32100-2015 alphabet (no I, O, S, V, Z) and weights of the unified social credit code. */
const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

function creditCodeCheck(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1)
    sum += CREDIT_CODE_CHARSET.indexOf(first17[i]) * CREDIT_CODE_WEIGHTS[i];
  return CREDIT_CODE_CHARSET[(31 - (sum % 31)) % 31];
}

/**
 * A random, valid unified social credit code: "91" (enterprise registered with the market
 * regulator), a six-digit division, nine organisation-code characters and the check character.
 */
export function validCreditCode(): string {
  let body = '91310115';
  for (let i = 0; i < 9; i += 1) body += CREDIT_CODE_CHARSET[randomInt(CREDIT_CODE_CHARSET.length)];
  return body + creditCodeCheck(body);
}

/** A credit code of the right shape whose check character is wrong. */
export function creditCodeWithWrongCheck(): string {
  const valid = validCreditCode();
  const right = valid[17];
  const wrong =
    CREDIT_CODE_CHARSET[(CREDIT_CODE_CHARSET.indexOf(right) + 1) % CREDIT_CODE_CHARSET.length];
  return valid.slice(0, 17) + wrong;
}
