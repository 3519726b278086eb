import {
  AcceleratorKind,
  PoolClass,
  type PoolSpec,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';

/** A valid bare-metal pool spec, named in Chinese, with one GPU model: specs change what they test. */
export const POOL_SPEC: PoolSpec = {
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
