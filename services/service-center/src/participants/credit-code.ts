/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-symbol
 * alphabet (digits and upper-case letters without I, O, Z, S, V). Position 1 is the registration
 * authority, 2 the entity type, 3-8 the administrative division (digits), 9-17 the organisation
 * code, 18 a check character over the first 17.
 */
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** The check character for the first 17 characters, or undefined if one is outside the alphabet. */
export function creditCodeCheckCharacter(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    const value = CREDIT_CODE_CHARSET.indexOf(first17[i]);
    if (value < 0) return undefined;
    sum += value * WEIGHTS[i];
  }
  const check = (31 - (sum % 31)) % 31;
  return CREDIT_CODE_CHARSET[check];
}

/** Why a credit code is invalid, or undefined when it is valid. Expects the upper-cased code. */
export function creditCodeProblem(code: string): string | undefined {
  if (code.length !== 18) return 'must be 18 characters';
  if (!SHAPE.test(code)) {
    return 'must use only 0-9 and A-Y without I, O, S, V, Z, with digits in positions 3 to 8';
  }
  if (creditCodeCheckCharacter(code.slice(0, 17)) !== code[17])
    return 'has a wrong check character';
  return undefined;
}
