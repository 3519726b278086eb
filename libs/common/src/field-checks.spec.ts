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
