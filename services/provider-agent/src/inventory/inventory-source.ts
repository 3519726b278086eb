import type { HeldData, InventoryData } from '@cinode/contracts';
import type { PoolSpec } from '@cinode/proto/gen/cinode/resource/v1/resource_service';

/** One pool the agent reports: a key stable across restarts, and what the pool is. */
export interface PoolDefinition {
  /** Letters, digits, '.', '_' or '-'; the pool's registration request id derives from it. */
  key: string;
  spec: PoolSpec;
}

/** Where the agent's pools and their capacity come from: a YAML file, or a simulation. */
export interface InventorySource {
  /** What the source describes; read once at start (pools are registered from it). */
  pools(): readonly PoolDefinition[];
  /** The capacity of every pool now, by key: every free value at most its total. */
  observe(): Promise<ReadonlyMap<string, InventoryData>>;
  /**
   * Whether what it observes already has the node's running tasks taken out of the free capacity
   * (a real inventory sees the workloads it runs; the simulation's load leaves them out).
   */
  readonly seesTasks: boolean;
}

/**
 * Capacity the node's tasks running in a pool take. The southbound contract: a snapshot reports
 * the node's allocations as free, since the node itself subtracts an allocation's resources from
 * the pool until its task ends (reporting them used too would count them twice, and a provider
 * running half its capacity for the node would show none free).
 */
export class RunningTasks {
  private readonly taken = new Map<string, HeldData[]>();

  take(key: string, resources: HeldData): void {
    this.taken.set(key, [...(this.taken.get(key) ?? []), resources]);
  }

  give(key: string, resources: HeldData): void {
    const list = this.taken.get(key) ?? [];
    const index = list.indexOf(resources);
    if (index >= 0) list.splice(index, 1);
  }

  /**
   * What to report of `inventory` observed by a source: a source that sees the tasks gets their
   * resources added back as free (never above the totals); one that does not is reported as is.
   */
  reported(key: string, inventory: InventoryData, seesTasks: boolean): InventoryData {
    if (!seesTasks) return inventory;
    const out = { ...inventory };
    for (const r of this.taken.get(key) ?? []) {
      out.cpuCoresFree = Math.min(out.cpuCoresTotal, out.cpuCoresFree + r.cpuCores);
      out.gpuCardsFree = Math.min(out.gpuCardsTotal, out.gpuCardsFree + r.gpuCards);
      out.npuCardsFree = Math.min(out.npuCardsTotal, out.npuCardsFree + r.npuCards);
      out.memoryGibFree = Math.min(out.memoryGibTotal, out.memoryGibFree + r.memoryGib);
      out.storageGibFree = Math.min(out.storageGibTotal, out.storageGibFree + r.storageGib);
    }
    return out;
  }
}
