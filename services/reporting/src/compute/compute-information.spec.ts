import {
  REPORT_SCHEMA_VERSION,
  exampleReportPayload,
  reportPayloadViolations,
} from '@cinode/contracts';
import type { Inventory } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
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

describe(computeInformationOf.name, () => {
  const asOf = new Date('2026-12-01T07:00:05Z');

  it("reports the map's node-wide totals and free capacity (every pool once), not a sum of its cells", () => {
    const info = computeInformationOf(inventory(3, 0.5), asOf);
    expect(info).toMatchObject({
      as_of: '2026-12-01T07:00:05.000Z',
      cpu_servers: 30,
      cpu_cores_total: 1920,
      cpu_cores_free: 960,
      gpu_cards_total: 48,
      gpu_cards_free: 24,
      uplink_mbps_total: 30_000,
      uplink_traffic_gb_free: 750,
      fp16_tflops_total: 0.3,
      fp16_tflops_free: 0.15,
    });
  });

  it('reports zeros, not absent fields, for a node without pools', () => {
    const info = computeInformationOf({ total: undefined, free: undefined }, asOf);
    expect(Object.values(info).filter((v) => v !== 0)).toEqual([asOf.toISOString()]);
  });

  it('makes a compute section the national schema accepts', () => {
    const payload = exampleReportPayload();
    payload.compute = computeInformationOf(inventory(3, 0.4), asOf);
    expect(reportPayloadViolations(REPORT_SCHEMA_VERSION, payload)).toEqual([]);
  });
});
