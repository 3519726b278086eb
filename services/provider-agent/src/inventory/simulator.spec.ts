import type { InventoryData } from '@cinode/contracts';
import { AcceleratorKind } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { SimulatedInventory } from './simulator';

const PAIRS: Array<[keyof InventoryData, keyof InventoryData]> = [
  ['cpuCoresFree', 'cpuCoresTotal'],
  ['gpuCardsFree', 'gpuCardsTotal'],
  ['npuCardsFree', 'npuCardsTotal'],
  ['fp16TflopsFree', 'fp16TflopsTotal'],
  ['fp32TflopsFree', 'fp32TflopsTotal'],
  ['memoryGibFree', 'memoryGibTotal'],
  ['storageGibFree', 'storageGibTotal'],
  ['uplinkMbpsFree', 'uplinkMbpsTotal'],
  ['downlinkMbpsFree', 'downlinkMbpsTotal'],
];

describe(SimulatedInventory.name, () => {
  it('describes the same pools for the same seed, and other pools for another', async () => {
    const a = new SimulatedInventory(20, 7);
    const b = new SimulatedInventory(20, 7);
    expect(b.pools()).toEqual(a.pools());
    expect([...(await b.observe())]).toEqual([...(await a.observe())]);
    const other = new SimulatedInventory(20, 8).pools();
    expect(other.map((p) => p.spec)).not.toEqual(a.pools().map((p) => p.spec));
    // A pool's description does not depend on how many pools are simulated.
    expect(new SimulatedInventory(3, 7).pools()).toEqual(a.pools().slice(0, 3));
  });

  it('covers both classes, several regions and domestic NPUs, with unique keys and sites', () => {
    const pools = new SimulatedInventory(40, 1).pools();
    expect(new Set(pools.map((p) => p.spec.poolClass)).size).toBe(2);
    expect(new Set(pools.map((p) => p.spec.regionCode)).size).toBeGreaterThan(4);
    expect(
      pools.some((p) =>
        p.spec.accelerators.some(
          (a) => a.kind === AcceleratorKind.ACCELERATOR_KIND_NPU && a.domestic,
        ),
      ),
    ).toBe(true);
    expect(new Set(pools.map((p) => p.key)).size).toBe(40);
    expect(new Set(pools.map((p) => p.spec.site)).size).toBe(40);
  });

  it('drifts the load from one observation to the next, keeping free at most total and whole counts', async () => {
    const simulation = new SimulatedInventory(25, 3);
    const seen = new Map<string, Set<number>>();
    for (let round = 0; round < 50; round += 1) {
      for (const [key, inventory] of await simulation.observe()) {
        for (const [free, total] of PAIRS) {
          expect(inventory[free]).toBeGreaterThanOrEqual(0);
          expect(inventory[free]).toBeLessThanOrEqual(inventory[total]);
        }
        expect(Number.isInteger(inventory.cpuCoresFree)).toBe(true);
        const values = seen.get(key) ?? new Set<number>();
        values.add(inventory.cpuCoresFree);
        seen.set(key, values);
      }
    }
    // Every pool's free capacity moved over the rounds.
    for (const values of seen.values()) expect(values.size).toBeGreaterThan(5);
  });
});
