import { FieldChecks } from '@cinode/common';
import {
  AcceleratorKind,
  PoolClass,
  type PoolSpec,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { checkPoolSpec } from './pool-input';

const SPEC: PoolSpec = {
  name: '临港一号 GPU 池',
  poolClass: PoolClass.POOL_CLASS_BARE_METAL,
  site: 'sh-lingang-1',
  regionCode: '310115',
  accelerators: [
    { kind: AcceleratorKind.ACCELERATOR_KIND_GPU, model: 'A100-80G', domestic: false },
  ],
  securityLevel: 3,
  datacenterTier: 4,
  pue: 1.25,
  renewableRatio: 0.4,
  gflopsPerWatt: 52.5,
  price: {
    cpuCoreHourFen: 12,
    gpuCardHourFen: 1_800,
    npuCardHourFen: 0,
    memoryGibHourFen: 2,
    storageGibHourFen: 1,
  },
};

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
