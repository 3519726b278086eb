import { FieldChecks } from '@cinode/common';
import type { PoolSpec } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { POOL_SPEC as SPEC } from '../../test/pool-spec.fixture';
import { checkPoolSpec } from './pool-input';

function violationsOf(spec: PoolSpec): string[] {
  const checks = new FieldChecks();
  checkPoolSpec(spec, checks);
  try {
    checks.throwIfAny();
    return [];
  } catch (error) {
    return (error as { fieldViolations: Array<{ field: string }> }).fieldViolations.map(
      (v) => v.field,
    );
  }
}

describe(checkPoolSpec.name, () => {
  it('takes a pool named in Chinese', () => {
    expect(violationsOf(SPEC)).toEqual([]);
  });

  it('keeps the names a listing shows to one line as people read them', () => {
    expect(
      violationsOf({
        ...SPEC,
        name: 'pool\u202Elooc',
        accelerators: [{ ...SPEC.accelerators[0], model: 'A100\u2028-80G' }],
      }),
    ).toEqual(['spec.name', 'spec.accelerators[0].model']);
  });
});
