import { ValidationError, type FieldViolation } from './errors';

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

  /** Checks a required string's presence, length and (optionally) pattern. */
  text(
    field: string,
    value: string,
    rules: {
      required?: boolean;
      min?: number;
      max: number;
      pattern?: RegExp;
      patternHint?: string;
    },
  ): this {
    const required = rules.required ?? true;
    if (value.length === 0) {
      if (required) this.add(field, 'is required');
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
