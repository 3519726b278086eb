import { ValidationError, type FieldViolation } from './errors';
import { hasDisruptiveCharacter, hasLoneSurrogate, sanitizeText } from './text';

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of google.protobuf.Timestamp. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;

const LINE_HINT =
  'must be one line of text, without control, separator or bidirectional-override characters';

/** How much of a map key a violation's field name shows (the key itself may be far longer). */
const KEY_IN_FIELD_NAME_CHARS = 64;

/**
 * Collects every problem with a request before failing, so a caller learns all bad fields in one
 * round trip. Field names are proto field names (snake_case), as the caller wrote them.
 */
export class FieldChecks {
  private readonly violations: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.violations.push({ field, description });
    return this;
  }

  /**
   * Checks a required string's presence, length and (optionally) pattern. With `line`, the value
   * is one line as people read it: no controls (tab and line feed among them), line or paragraph
   * separators, or bidirectional embeddings, overrides and isolates.
   */
  text(
    field: string,
    value: string,
    rules: {
      required?: boolean;
      min?: number;
      max: number;
      pattern?: RegExp;
      patternHint?: string;
      line?: boolean;
    },
  ): this {
    const required = rules.required ?? true;
    if (value.length === 0) {
      if (required) this.add(field, 'is required');
      return this;
    }
    // Postgres stores neither; refused here they are INVALID_ARGUMENT, not INTERNAL.
    if (value.includes('\u0000')) {
      this.add(field, 'must not contain NUL characters');
      return this;
    }
    if (hasLoneSurrogate(value)) {
      this.add(field, 'must be well-formed Unicode');
      return this;
    }
    if (rules.line && hasDisruptiveCharacter(value)) {
      this.add(field, LINE_HINT);
      return this;
    }
    const length = [...value].length;
    if (rules.min !== undefined && length < rules.min) {
      this.add(field, `must be at least ${rules.min} characters`);
    } else if (length > rules.max) {
      this.add(field, `must be at most ${rules.max} characters`);
    } else if (rules.pattern && !rules.pattern.test(value)) {
      this.add(field, rules.patternHint ?? `must match ${rules.pattern.source}`);
    }
    return this;
  }

  /**
   * Checks a `map<string, string>` of free-form attributes: how many entries, and each key and
   * value as text (keys required, values may be empty), up to one entry past the limit.
   * Violations name the entry as `field[key]`, the key made printable.
   */
  stringMap(
    field: string,
    value: Record<string, string>,
    rules: { maxEntries: number; maxKeyChars: number; maxValueChars: number },
  ): this {
    const entries = Object.entries(value);
    if (entries.length > rules.maxEntries)
      this.add(field, `must have at most ${rules.maxEntries} entries`);
    // Entries past the limit are not looked at: a huge map gets one violation, not one per entry.
    for (const [key, entryValue] of entries.slice(0, rules.maxEntries + 1)) {
      const name = `${field}[${sanitizeText(key, KEY_IN_FIELD_NAME_CHARS)}]`;
      const keyChecks = new FieldChecks().text(name, key, { max: rules.maxKeyChars });
      for (const violation of keyChecks.violations)
        this.add(violation.field, `key ${violation.description}`);
      this.text(name, entryValue, { required: false, max: rules.maxValueChars });
    }
    return this;
  }

  /** Checks that an enum field is set to one of the known, non-zero values. */
  enumValue<E extends number>(field: string, value: E, known: readonly E[]): this {
    if (value === 0) this.add(field, 'is required');
    else if (!known.includes(value)) this.add(field, `unknown value ${value}`);
    return this;
  }

  /** Checks an integer range. */
  range(field: string, value: number, min: number, max: number): this {
    if (!Number.isFinite(value) || value < min || value > max) {
      this.add(field, `must be between ${min} and ${max}`);
    }
    return this;
  }

  /** Checks a timestamp a caller sent: present when required, between years 1 and 9999. */
  timestamp(
    field: string,
    value: { seconds: number; nanos: number } | undefined | null,
    rules: { required?: boolean } = {},
  ): this {
    // Unset message fields arrive as null from the wire, undefined from TypeScript callers.
    if (value === undefined || value === null) {
      if (rules.required ?? true) this.add(field, 'is required');
      return this;
    }
    if (
      !Number.isSafeInteger(value.seconds) ||
      value.seconds < MIN_TIMESTAMP_SECONDS ||
      value.seconds > MAX_TIMESTAMP_SECONDS ||
      !Number.isInteger(value.nanos) ||
      value.nanos < 0 ||
      value.nanos > 999_999_999
    ) {
      this.add(field, 'must be a time between years 1 and 9999');
    }
    return this;
  }

  /** Checks that a required message field is present. */
  present(field: string, value: unknown): this {
    if (value === undefined || value === null) this.add(field, 'is required');
    return this;
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** Throws a ValidationError listing every violation, if there is any. */
  throwIfAny(): void {
    if (this.violations.length > 0) throw new ValidationError([...this.violations]);
  }
}

/** Returns a required message field, or fails with INVALID_ARGUMENT naming it. */
export function required<T>(field: string, value: T | undefined | null): T {
  if (value === undefined || value === null)
    throw new ValidationError([{ field, description: 'is required' }]);
  return value;
}
