const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Whether the string has a high or low surrogate without its partner (not encodable as UTF-8). */
export function hasLoneSurrogate(value: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(value);
}

/** C0 controls but tab, line feed and carriage return, and DEL: never part of a value people mean. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f)
      return true;
  }
  return false;
}

/**
 * Characters that change how a line reads rather than what it says: C0 and C1 controls, DEL, the
 * line and paragraph separators, and the bidirectional embeddings, overrides and isolates (which
 * can make a logged value display reversed).
 */
function isDisruptive(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * Whether the string has a character that changes how a line reads rather than what it says (see
 * isDisruptive): a name or reference with one can break a log line or a listing, or display as
 * something else than it is.
 */
export function hasDisruptiveCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (isDisruptive(value.charCodeAt(i))) return true;
  return false;
}

/**
 * The string with lone surrogates, controls and display-disrupting characters (see isDisruptive)
 * replaced by U+FFFD, cut to `max` characters (code points, not UTF-16 units): safe to store and
 * to log, whatever a caller sent.
 */
export function sanitizeText(value: string, max: number): string {
  let out = '';
  let count = 0;
  for (const char of value.replace(LONE_SURROGATE, '\uFFFD')) {
    if (count === max) break;
    out += isDisruptive(char.codePointAt(0) ?? 0) ? '\uFFFD' : char;
    count++;
  }
  return out;
}

/** The first `max` characters (code points), never splitting a surrogate pair. */
export function truncateChars(value: string, max: number): string {
  const chars = [...value];
  return chars.length > max ? chars.slice(0, max).join('') : value;
}
