import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  PoolState,
  type Inventory,
  type Pool,
  type PoolSpec,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { SETTLE_MS } from './market';
import type { KeyHolder, NodeClients } from './node-processes';
import { pollUntil, retryWhile } from './waiting';

/** A pool's capacity: `overrides` on a mid-sized GPU/NPU site about half used. */
export function inventoryOf(overrides: Partial<Inventory> = {}): Inventory {
  return {
    cpuServers: 10,
    cpuCoresTotal: 640,
    cpuCoresFree: 320,
    gpuServers: 4,
    gpuCardsTotal: 32,
    gpuCardsFree: 8,
    npuServers: 2,
    npuCardsTotal: 16,
    npuCardsFree: 16,
    fp16TflopsTotal: 31_680,
    fp16TflopsFree: 7_920,
    fp32TflopsTotal: 2_144,
    fp32TflopsFree: 536,
    memoryGibTotal: 20_480,
    memoryGibFree: 10_240,
    storageGibTotal: 1_000_000,
    storageGibFree: 600_000,
    uplinkMbpsTotal: 100_000,
    uplinkMbpsFree: 60_000,
    uplinkTrafficGbFree: 5_000,
    downlinkMbpsTotal: 100_000,
    downlinkMbpsFree: 70_000,
    downlinkTrafficGbFree: 5_000,
    ...overrides,
  };
}

/** Registers a pool, retried while the identifier service is not ready for the provider yet. */
export async function registerPool(
  api: NodeClients,
  holder: KeyHolder,
  spec: PoolSpec,
): Promise<Pool> {
  const requestId = randomUUID();
  const { pool } = await retryWhile(
    'RegisterPool to be accepted',
    [GrpcStatus.UNAVAILABLE, GrpcStatus.FAILED_PRECONDITION],
    async () =>
      api.resources.registerPool({ requestId, spec, contractVersion: 1 }, await holder.options()),
    SETTLE_MS,
  );
  return pool!;
}

/** Waits until `reader` sees the pool in `state`. */
export async function waitForPoolState(
  api: NodeClients,
  reader: KeyHolder,
  poolId: string,
  state: PoolState,
): Promise<Pool> {
  const { value } = await pollUntil(
    `pool ${poolId} to be ${PoolState[state]}`,
    async () => (await api.resources.getPool({ poolId }, await reader.options())).pool!,
    (pool) => pool.state === state,
    SETTLE_MS,
  );
  return value;
}

/** Registers a pool, reports its first snapshot and waits until it is filed and online. */
export async function onlinePool(
  api: NodeClients,
  provider: KeyHolder,
  spec: PoolSpec,
  inventory: Inventory,
): Promise<Pool> {
  const pool = await registerPool(api, provider, spec);
  await api.resources.reportInventory(
    { snapshots: [{ poolId: pool.poolId, sequence: 1, observedAt: undefined, inventory }] },
    await provider.options(),
  );
  return waitForPoolState(api, provider, pool.poolId, PoolState.POOL_STATE_ONLINE);
}
