const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Whether the string has a high or low surrogate without its partner (not encodable as UTF-8). */
export function hasLoneSurrogate(value: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(value);
}

/**
 * The string with lone surrogates and control characters (U+0000–U+001F, U+007F) replaced by
 * U+FFFD, cut to `max` characters (code points, not UTF-16 units): safe to store and to log,
 * whatever a caller sent.
 */
export function sanitizeText(value: string, max: number): string {
  let out = '';
  let count = 0;
  for (const char of value.replace(LONE_SURROGATE, '\uFFFD')) {
    if (count === max) break;
    const code = char.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f ? '\uFFFD' : char;
    count++;
  }
  return out;
}

/** The first `max` characters (code points), never splitting a surrogate pair. */
export function truncateChars(value: string, max: number): string {
  const chars = [...value];
  return chars.length > max ? chars.slice(0, max).join('') : value;
}
