import {
  REPORT_SCHEMA_VERSION,
  exampleReportPayload,
  reportPayloadViolations,
} from '@cinode/contracts';
import {
  PoolClass,
  type ComputeMapCell,
  type Inventory,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { computeInformationOf } from './compute-information';

function inventory(scale: number, freeShare: number): { total: Inventory; free: Inventory } {
  const total: Inventory = {
    cpuServers: 10 * scale,
    cpuCoresTotal: 640 * scale,
    cpuCoresFree: 640 * scale,
    gpuServers: 2 * scale,
    gpuCardsTotal: 16 * scale,
    gpuCardsFree: 16 * scale,
    npuServers: scale,
    npuCardsTotal: 8 * scale,
    npuCardsFree: 8 * scale,
    fp16TflopsTotal: 0.1 * scale,
    fp16TflopsFree: 0.1 * scale,
    fp32TflopsTotal: 0.2 * scale,
    fp32TflopsFree: 0.2 * scale,
    memoryGibTotal: 4096 * scale,
    memoryGibFree: 4096 * scale,
    storageGibTotal: 100_000 * scale,
    storageGibFree: 100_000 * scale,
    uplinkMbpsTotal: 10_000 * scale,
    uplinkMbpsFree: 10_000 * scale,
    uplinkTrafficGbFree: 500 * scale,
    downlinkMbpsTotal: 20_000 * scale,
    downlinkMbpsFree: 20_000 * scale,
    downlinkTrafficGbFree: 900 * scale,
  };
  const free = Object.fromEntries(
    Object.entries(total).map(([k, v]) => [
      k,
      Number.isInteger(v) ? Math.floor(v * freeShare) : v * freeShare,
    ]),
  ) as unknown as Inventory;
  return { total, free };
}

function cell(region: string, model: string, scale: number, freeShare: number): ComputeMapCell {
  return {
    regionCode: region,
    poolClass: PoolClass.POOL_CLASS_BARE_METAL,
    acceleratorModel: model,
    pools: 1,
    ...inventory(scale, freeShare),
  };
}

describe(computeInformationOf.name, () => {
  const asOf = new Date('2026-12-01T07:00:05Z');

  it('sums totals and free capacity over every region and model', () => {
    const info = computeInformationOf(
      [cell('310000', 'H100', 1, 0.5), cell('440000', '', 2, 0.25)],
      asOf,
    );
    expect(info).toMatchObject({
      as_of: '2026-12-01T07:00:05.000Z',
      cpu_servers: 30,
      cpu_cores_total: 1920,
      cpu_cores_free: 320 + 320,
      gpu_cards_total: 48,
      gpu_cards_free: 8 + 8,
      uplink_mbps_total: 30_000,
      uplink_traffic_gb_free: 250 + 250,
      fp16_tflops_total: 0.3,
      fp16_tflops_free: 0.1,
    });
  });

  it('reports zeros, not absent fields, for a node without pools', () => {
    const info = computeInformationOf([], asOf);
    expect(Object.values(info).filter((v) => v !== 0)).toEqual([asOf.toISOString()]);
  });

  it('makes a compute section the national schema accepts', () => {
    const payload = exampleReportPayload();
    payload.compute = computeInformationOf([cell('310000', 'H100', 3, 0.4)], asOf);
    expect(reportPayloadViolations(REPORT_SCHEMA_VERSION, payload)).toEqual([]);
  });
});
