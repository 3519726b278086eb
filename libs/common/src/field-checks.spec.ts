import { ValidationError } from './errors';
import { FieldChecks, required } from './field-checks';

describe(FieldChecks.name, () => {
  it('collects every violation before failing', () => {
    const checks = new FieldChecks()
      .text('name', '', { max: 10 })
      .text('code', 'abc', { max: 10, pattern: /^\d+$/, patternHint: 'must be digits' })
      .text('note', 'x'.repeat(11), { required: false, max: 10 })
      .enumValue('kind', 0, [1, 2])
      .range('ratio', 2, 0, 1);
    expect(checks.ok).toBe(false);
    let error: unknown;
    try {
      checks.throwIfAny();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldViolations).toEqual([
      { field: 'name', description: 'is required' },
      { field: 'code', description: 'must be digits' },
      { field: 'note', description: 'must be at most 10 characters' },
      { field: 'kind', description: 'is required' },
      { field: 'ratio', description: 'must be between 0 and 1' },
    ]);
  });

  it('counts characters, not UTF-16 units, so Chinese names fit their limits', () => {
    expect(new FieldChecks().text('name', '算力互联互通节点', { max: 8 }).ok).toBe(true);
  });

  it('refuses text Postgres cannot store: NUL and lone surrogates', () => {
    const ok = (value: string): boolean => new FieldChecks().text('name', value, { max: 50 }).ok;
    expect(ok('a\u0000b')).toBe(false);
    expect(ok('a\uD800b')).toBe(false);
    expect(ok('a\uDC00')).toBe(false);
    expect(ok('emoji \uD83D\uDE00 is fine')).toBe(true);
  });

  it('keeps a one-line field to one line as people read it', () => {
    const refusalOf = (value: string): ValidationError | undefined => {
      try {
        new FieldChecks().text('name', value, { max: 64, line: true }).throwIfAny();
        return undefined;
      } catch (error) {
        return error as ValidationError;
      }
    };
    for (const bad of [
      'a\nb',
      'a\tb',
      'a\u0085b',
      'a\u2028b',
      'user\u202Egnp.exe',
      'a\u2066b\u2069',
    ])
      expect(refusalOf(bad)?.fieldViolations).toEqual([
        {
          field: 'name',
          description:
            'must be one line of text, without control, separator or bidirectional-override characters',
        },
      ]);
    expect(refusalOf('昇腾 910B (Ü)')).toBeUndefined();
    // Without the rule, only what Postgres cannot store is refused.
    expect(new FieldChecks().text('name', 'a\u202Eb', { max: 64 }).ok).toBe(true);
  });

  it('takes timestamps Postgres can hold, and absent ones only when optional', () => {
    const at = (seconds: number, nanos = 0) => ({ seconds, nanos });
    const ok = (value: { seconds: number; nanos: number } | undefined, required = true): boolean =>
      new FieldChecks().timestamp('at', value, { required }).ok;
    expect(ok(at(1_800_000_000))).toBe(true);
    expect(ok(at(-62_135_596_800))).toBe(true); // 0001-01-01T00:00:00Z
    expect(ok(at(253_402_300_799, 999_999_999))).toBe(true); // 9999-12-31T23:59:59.999999999Z
    expect(ok(at(-62_135_596_801))).toBe(false);
    expect(ok(at(253_402_300_800))).toBe(false);
    expect(ok(at(Number.MAX_SAFE_INTEGER + 2))).toBe(false);
    expect(ok(at(0, -1))).toBe(false);
    expect(ok(at(0, 1_000_000_000))).toBe(false);
    expect(ok(undefined)).toBe(false);
    expect(ok(undefined, false)).toBe(true);
  });

  it('checks a map of attributes entry by entry, naming the entry', () => {
    const limits = { maxEntries: 3, maxKeyChars: 4, maxValueChars: 5 };
    const violations = (value: Record<string, string>) => {
      try {
        new FieldChecks().stringMap('attributes', value, limits).throwIfAny();
        return [];
      } catch (error) {
        return (error as ValidationError).fieldViolations;
      }
    };
    expect(violations({ a: '', 区域: '华东一区' })).toEqual([]);
    expect(violations({ a: '1', b: '2', c: '3', d: '4' })).toEqual([
      { field: 'attributes', description: 'must have at most 3 entries' },
    ]);
    expect(violations({ '': 'x', toolong: 'x', k: 'sixsix', n: 'a\u0000' })).toEqual([
      { field: 'attributes', description: 'must have at most 3 entries' },
      { field: 'attributes[]', description: 'key is required' },
      { field: 'attributes[toolong]', description: 'key must be at most 4 characters' },
      { field: 'attributes[k]', description: 'must be at most 5 characters' },
      { field: 'attributes[n]', description: 'must not contain NUL characters' },
    ]);
    expect(violations({ 'a\u0000': 'x' })).toEqual([
      { field: 'attributes[a\uFFFD]', description: 'key must not contain NUL characters' },
    ]);
  });

  it('accepts an absent optional field', () => {
    expect(new FieldChecks().text('endpoint', '', { required: false, max: 5 }).ok).toBe(true);
  });
});

describe(required.name, () => {
  it('returns a present value and fails naming an absent one', () => {
    expect(required('faults', { a: 1 })).toEqual({ a: 1 });
    expect(() => required('faults', undefined)).toThrow('faults: is required');
  });
});
