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
}

/** Capacity of a pool that tasks running there take, taken out of what the source observes. */
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

  /** `inventory` with the running tasks' resources no longer free (never below zero). */
  apply(key: string, inventory: InventoryData): InventoryData {
    const out = { ...inventory };
    for (const r of this.taken.get(key) ?? []) {
      out.cpuCoresFree = Math.max(0, out.cpuCoresFree - r.cpuCores);
      out.gpuCardsFree = Math.max(0, out.gpuCardsFree - r.gpuCards);
      out.npuCardsFree = Math.max(0, out.npuCardsFree - r.npuCards);
      out.memoryGibFree = Math.max(0, out.memoryGibFree - r.memoryGib);
      out.storageGibFree = Math.max(0, out.storageGibFree - r.storageGib);
    }
    return out;
  }
}
