import { hasControlCharacter, hasLoneSurrogate, sanitizeText } from './text';

/** A JSON text read under the rules of `parseStrictJson`, or why it was refused and where. */
export type StrictJsonResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      /** JSON-pointer-like path of the offending member (`$.compute.cpu_cores_free`, `$.items[3]`). */
      path: string;
      reason: string;
    };

interface Level {
  /** Member names seen so far in an object; undefined in an array. */
  names: Set<string> | undefined;
  /** In an object: whether the next string is a member name. */
  expectName: boolean;
  /** The member being read (object) or the element's index (array). */
  name: string;
  index: number;
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Deepest nesting read: a report is a few levels deep; a hostile one could be millions. */
export const MAX_JSON_DEPTH = 64;
/** Longest member name shown in a path, in characters (a hostile name can be megabytes). */
const SHOWN_NAME = 64;

/**
 * Where the reader is; names that are not short plain identifiers are shown quoted, with controls,
 * lone surrogates and display-changing characters replaced and cut to 64 characters: a path goes
 * into error messages, logs and status trailers.
 */
function pathOf(levels: readonly Level[]): string {
  let path = '$';
  for (const level of levels) {
    if (!level.names) path += `[${level.index}]`;
    else if (PLAIN_NAME.test(level.name)) path += `.${level.name}`;
    else {
      const shown = sanitizeText(level.name, SHOWN_NAME);
      path += `[${JSON.stringify(shown.length < level.name.length ? `${shown}…` : shown)}]`;
    }
  }
  return path;
}

/**
 * Reads a JSON text (RFC 8259) that must also mean one thing to every reader: I-JSON (RFC 7493)
 * — no object with the same member name twice (readers differ on which one wins) and no string
 * with a lone surrogate (not Unicode) — and no string, name or value, with a control character
 * other than tab, line feed and carriage return (NUL is refused by Postgres and by many readers).
 * `JSON.parse` checks the syntax; one linear pass over the text then checks the rest, decoding
 * only the strings that hold escapes. A signed document read this way cannot be shown to one
 * reader with one meaning and to another with a different one.
 */
export function parseStrictJson(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, path: '$', reason: `is not JSON: ${(error as Error).message}` };
  }
  const levels: Level[] = [];
  const at = () => levels[levels.length - 1];
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      for (;;) {
        const c = text.charCodeAt(end);
        if (c === 0x22) break;
        if (c === 0x5c /* \ */) {
          escaped = true;
          end += 2;
        } else end += 1;
      }
      const decoded = escaped
        ? (JSON.parse(text.slice(i, end + 1)) as string)
        : text.slice(i + 1, end);
      i = end;
      const level = at();
      if (level?.names && level.expectName) {
        level.expectName = false;
        level.name = decoded;
        if (level.names.has(decoded))
          return { ok: false, path: pathOf(levels), reason: 'is a member name given twice' };
        level.names.add(decoded);
      }
      if (hasLoneSurrogate(decoded))
        return { ok: false, path: pathOf(levels), reason: 'holds a lone surrogate (not Unicode)' };
      if (hasControlCharacter(decoded))
        return { ok: false, path: pathOf(levels), reason: 'holds a control character' };
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (levels.length === MAX_JSON_DEPTH)
        return {
          ok: false,
          path: pathOf(levels),
          reason: `nests deeper than ${MAX_JSON_DEPTH} levels`,
        };
      levels.push(
        code === 0x7b
          ? { names: new Set(), expectName: true, name: '', index: 0 }
          : { names: undefined, expectName: false, name: '', index: 0 },
      );
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      levels.pop();
    } else if (code === 0x2c /* , */) {
      const level = at();
      if (level.names) level.expectName = true;
      else level.index += 1;
    }
  }
  return { ok: true, value };
}
