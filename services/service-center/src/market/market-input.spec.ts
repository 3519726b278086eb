import { ValidationError } from '@cinode/common';
import {
  AcceleratorKind,
  PoolClass,
  type Pool,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Demand } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { checkSubmitDemand, holdResourcesOf } from './market-input';

const DEMAND: Demand = {
  poolClass: PoolClass.POOL_CLASS_BARE_METAL,
  acceleratorModel: ' Ascend 910B ',
  acceleratorCount: 4,
  fp16Tflops: 0,
  fp32Tflops: 0,
  cpuCores: 32,
  memoryGib: 256,
  storageGib: 1_000,
  durationHours: 12,
  allowedRegions: [],
  userRegionCode: '',
  userSite: '',
  maxLatencyMs: 0,
  minBandwidthMbps: 0,
  maxPriceFenPerHour: 0,
  minSecurityLevel: 0,
  minRenewableRatio: 0,
  domesticOnly: false,
};

function pool(...accelerators: [AcceleratorKind, string][]): Pool {
  return {
    spec: {
      accelerators: accelerators.map(([kind, model]) => ({ kind, model, domestic: true })),
    },
  } as unknown as Pool;
}

function violationsOf(check: () => void): string[] {
  try {
    check();
  } catch (error) {
    if (error instanceof ValidationError) return error.fieldViolations.map((v) => v.field).sort();
    throw error;
  }
  return [];
}

describe(holdResourcesOf.name, () => {
  it("counts cards as the pool's accelerator of the model is: NPU here", () => {
    const held = holdResourcesOf(
      DEMAND,
      pool(
        [AcceleratorKind.ACCELERATOR_KIND_GPU, 'H800'],
        [AcceleratorKind.ACCELERATOR_KIND_NPU, 'ascend 910b'],
      ),
    );
    expect(held).toEqual({
      cpuCores: 32,
      gpuCards: 0,
      npuCards: 4,
      memoryGib: 256,
      storageGib: 1_000,
    });
  });

  it('counts GPU cards for a GPU model, and none without a model', () => {
    const gpu = pool([AcceleratorKind.ACCELERATOR_KIND_GPU, 'H800']);
    expect(holdResourcesOf({ ...DEMAND, acceleratorModel: 'h800' }, gpu)?.gpuCards).toBe(4);
    expect(holdResourcesOf({ ...DEMAND, acceleratorModel: '', acceleratorCount: 0 }, gpu)).toEqual({
      cpuCores: 32,
      gpuCards: 0,
      npuCards: 0,
      memoryGib: 256,
      storageGib: 1_000,
    });
  });

  it('gives nothing when the pool no longer offers the model', () => {
    expect(holdResourcesOf(DEMAND, pool([AcceleratorKind.ACCELERATOR_KIND_GPU, 'H800']))).toBe(
      undefined,
    );
  });
});

describe(checkSubmitDemand.name, () => {
  const request = {
    requestId: 'r-1',
    customerReference: '',
    demand: DEMAND,
    weights: undefined,
    topK: 0,
  };

  it('accepts a user demand without a customer and a reseller demand with one', () => {
    expect(violationsOf(() => checkSubmitDemand(request, false))).toEqual([]);
    expect(
      violationsOf(() => checkSubmitDemand({ ...request, customerReference: 'c-7' }, true)),
    ).toEqual([]);
  });

  it('names every bad field at once, the demand as compute selection names it', () => {
    expect(
      violationsOf(() =>
        checkSubmitDemand(
          {
            ...request,
            requestId: 'bad id',
            customerReference: 'c\u0007',
            demand: { ...DEMAND, durationHours: 0, acceleratorCount: -1 },
            topK: 500,
          },
          true,
        ),
      ),
    ).toEqual([
      'customer_reference',
      'demand.accelerator_count',
      'demand.duration_hours',
      'request_id',
      'top_k',
    ]);
    expect(
      violationsOf(() => checkSubmitDemand({ ...request, customerReference: 'c' }, false)),
    ).toEqual(['customer_reference']);
    // A reference that would display as another (a right-to-left override), or break a listing.
    for (const customerReference of ['cust\u202E7-remotsuc', 'a\u2028b'])
      expect(
        violationsOf(() => checkSubmitDemand({ ...request, customerReference }, true)),
      ).toEqual(['customer_reference']);
    expect(
      violationsOf(() =>
        checkSubmitDemand(
          { ...request, demand: { ...DEMAND, acceleratorModel: 'A100\u2066-80G' } },
          false,
        ),
      ),
    ).toEqual(['demand.accelerator_model']);
    expect(violationsOf(() => checkSubmitDemand({ ...request, demand: undefined }, false))).toEqual(
      ['demand'],
    );
  });

  it('refuses a demand for no capacity at all: nothing could be held for it', () => {
    const nothing = { ...DEMAND, cpuCores: 0, memoryGib: 0, storageGib: 0, acceleratorCount: 0 };
    expect(violationsOf(() => checkSubmitDemand({ ...request, demand: nothing }, false))).toEqual([
      'demand',
    ]);
    const cores = { ...nothing, cpuCores: 1 };
    expect(violationsOf(() => checkSubmitDemand({ ...request, demand: cores }, false))).toEqual([]);
  });
});
