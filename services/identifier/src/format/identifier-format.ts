/**
 * The identifier grammar and its check character (see README.md and the proto's header comment):
 *
 *   <national prefix>.<node code>.<object type>.<serial><check>     e.g. CN.R0001.RP.00000042 + check
 *
 * The check character is ISO/IEC 7064 pure MOD 37-2 over the significant characters (everything but
 * the dots). Its 37th symbol '*' is never emitted: serials whose check would be '*' are skipped, so
 * identifiers stay within letters, digits and dots (which is also all the national node accepts).
 */

export const OBJECT_TYPE_CODES = ['RP', 'PT', 'LN', 'AS'] as const;
export type ObjectTypeCode = (typeof OBJECT_TYPE_CODES)[number];

export const SERIAL_DIGITS = 8;
export const MAX_SERIAL = 10 ** SERIAL_DIGITS - 1;

/** Value 0..35 of each significant character; index 36 ('*') only exists in the check alphabet. */
export const CHECK_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*';
const MODULUS = 37;
/** The check value that has no letter-or-digit symbol; serials producing it are skipped. */
export const UNUSABLE_CHECK_VALUE = 36;

const NATIONAL_PREFIX = /^[A-Z]{2,8}$/;
const NODE_CODE = /^[RI]\d{4}$/;
const NODE_PREFIX = /^([A-Z]{2,8})\.([RI]\d{4})$/;
const IDENTIFIER = /^([A-Z]{2,8})\.([RI]\d{4})\.([A-Z]{2})\.(\d{8})([0-9A-Z])$/;

export interface ParsedIdentifier {
  /** Canonical (upper-case) form. */
  canonical: string;
  nationalPrefix: string;
  nodeCode: string;
  objectType: ObjectTypeCode;
  serial: number;
  check: string;
}

export type ParseFailure = 'GRAMMAR' | 'OBJECT_TYPE' | 'CHECK_CHARACTER';
export type ParseResult =
  | { ok: true; value: ParsedIdentifier }
  | { ok: false; failure: ParseFailure; message: string };

function valueOf(char: string): number {
  const value = CHECK_ALPHABET.indexOf(char);
  if (value < 0 || value >= UNUSABLE_CHECK_VALUE)
    throw new Error(`'${char}' is not a significant character`);
  return value;
}

/**
 * ISO/IEC 7064 pure MOD 37-2 check value (0..36) of a string of digits and upper-case letters.
 * p accumulates sum(a_i * 2^(n-i+1)) mod 37; the check c makes the weighted sum including c equal
 * 1 mod 37. Because 37 is prime and every weight is a power of 2 (never 0 mod 37), changing one
 * character by d (|d| < 37) changes the sum by d*2^k != 0, and swapping neighbours a,b changes it
 * by (a-b)*2^k != 0: both are always detected. Swapping the last character with the check changes
 * the sum by (a-c)*(2-1) = a-c != 0.
 */
export function mod37CheckValue(significant: string): number {
  let p = 0;
  for (const char of significant) p = ((p + valueOf(char)) * 2) % MODULUS;
  return (MODULUS + 1 - p) % MODULUS;
}

/** The significant characters of an identifier body: everything but the dots. */
export function significantCharacters(body: string): string {
  return body.replace(/\./g, '');
}

/** True when `serial` under this prefix and type gets a letter-or-digit check character. */
export function isUsableSerial(
  nodePrefix: string,
  objectType: ObjectTypeCode,
  serial: number,
): boolean {
  return (
    mod37CheckValue(significantCharacters(bodyOf(nodePrefix, objectType, serial))) !==
    UNUSABLE_CHECK_VALUE
  );
}

function bodyOf(nodePrefix: string, objectType: ObjectTypeCode, serial: number): string {
  return `${nodePrefix}.${objectType}.${String(serial).padStart(SERIAL_DIGITS, '0')}`;
}

/** Checks a node prefix as the national node assigns it ("CN.R0001"). */
export function isValidNodePrefix(prefix: string): boolean {
  return NODE_PREFIX.test(prefix);
}

export function splitNodePrefix(prefix: string): { nationalPrefix: string; nodeCode: string } {
  const match = NODE_PREFIX.exec(prefix);
  if (!match) throw new Error(`"${prefix}" is not a node identifier prefix like CN.R0001`);
  return { nationalPrefix: match[1], nodeCode: match[2] };
}

export function isValidNodeCode(code: string): boolean {
  return NODE_CODE.test(code);
}

export function isValidNationalPrefix(prefix: string): boolean {
  return NATIONAL_PREFIX.test(prefix);
}

/**
 * Formats an identifier. Throws for a serial out of range or one whose check value is unusable:
 * the allocator must skip those (isUsableSerial).
 */
export function formatIdentifier(
  nodePrefix: string,
  objectType: ObjectTypeCode,
  serial: number,
): string {
  if (!isValidNodePrefix(nodePrefix))
    throw new Error(`"${nodePrefix}" is not a node identifier prefix like CN.R0001`);
  if (!Number.isInteger(serial) || serial < 1 || serial > MAX_SERIAL)
    throw new Error(`serial ${serial} is out of range`);
  const body = bodyOf(nodePrefix, objectType, serial);
  const check = mod37CheckValue(significantCharacters(body));
  if (check === UNUSABLE_CHECK_VALUE)
    throw new Error(`serial ${serial} has no usable check character; skip it`);
  return body + CHECK_ALPHABET[check];
}

function isObjectTypeCode(code: string): code is ObjectTypeCode {
  return (OBJECT_TYPE_CODES as readonly string[]).includes(code);
}

/** Parses any letter case; verifies grammar, object type and check character. */
export function parseIdentifier(input: string): ParseResult {
  const canonical = input.trim().toUpperCase();
  const match = IDENTIFIER.exec(canonical);
  if (!match) {
    return {
      ok: false,
      failure: 'GRAMMAR',
      message:
        'must look like CN.R0001.RP.00000042X: prefix, node code, object type, 8-digit serial and check character',
    };
  }
  const [, nationalPrefix, nodeCode, type, serialDigits, check] = match;
  if (!isObjectTypeCode(type)) {
    return {
      ok: false,
      failure: 'OBJECT_TYPE',
      message: `unknown object type ${type}; expected one of ${OBJECT_TYPE_CODES.join(', ')}`,
    };
  }
  const expected = mod37CheckValue(significantCharacters(canonical.slice(0, -1)));
  if (CHECK_ALPHABET[expected] !== check) {
    return {
      ok: false,
      failure: 'CHECK_CHARACTER',
      message: 'check character does not match: the identifier is mistyped',
    };
  }
  return {
    ok: true,
    value: {
      canonical,
      nationalPrefix,
      nodeCode,
      objectType: type,
      serial: Number(serialDigits),
      check,
    },
  };
}
