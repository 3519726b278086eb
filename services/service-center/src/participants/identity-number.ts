/**
 * Resident identity number (公民身份号码), GB 11643-1999: a six-digit division code, an eight-digit
 * birth date, a three-digit sequence and a check character from ISO 7064 MOD 11-2 (0-9 or X).
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
const SHAPE = /^[1-9]\d{5}(\d{4})(\d{2})(\d{2})\d{3}[0-9X]$/;

export function identityCheckCharacter(first17: string): string | undefined {
  if (!/^\d{17}$/.test(first17)) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

/** Why an identity number is invalid, or undefined when valid. Expects the upper-cased number. */
export function identityNumberProblem(value: string, today: Date = new Date()): string | undefined {
  const match = SHAPE.exec(value);
  if (!match) return 'must be 17 digits followed by a digit or X';
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const birth = new Date(Date.UTC(year, month - 1, day));
  const realDate =
    birth.getUTCFullYear() === year &&
    birth.getUTCMonth() === month - 1 &&
    birth.getUTCDate() === day;
  if (!realDate || year < 1800 || birth.getTime() > today.getTime())
    return 'has an impossible birth date';
  if (identityCheckCharacter(value.slice(0, 17)) !== value[17])
    return 'has a wrong check character';
  return undefined;
}
