import { z } from 'zod';
import { defineEvent, defineEventSource, defineStream, textOf } from './contract';

/** Resource aggregation's stream: resource pools, their liveness and capacity. */
export const RESOURCE_STREAM = defineStream({
  name: 'RESOURCE',
  subjects: ['cinode.resource.>'],
  owner: 'resource-aggregation',
  description: 'Resource pools: registration, filing, liveness and capacity (resource aggregation)',
});

export const POOL_CLASSES = ['A', 'B'] as const;
export type PoolClassCode = (typeof POOL_CLASSES)[number];
export const POOL_STATES = ['pending_filing', 'online', 'stale', 'offline', 'suspended'] as const;
export type PoolStateName = (typeof POOL_STATES)[number];
export const ACCELERATOR_KINDS = ['GPU', 'NPU'] as const;

const count = z.number().int().nonnegative().safe();
const amount = z.number().nonnegative().finite();

/** The capacity fields of seed 004 (the southbound Inventory message), each total and free. */
export const inventoryData = z.object({
  cpuServers: count,
  cpuCoresTotal: count,
  cpuCoresFree: count,
  gpuServers: count,
  gpuCardsTotal: count,
  gpuCardsFree: count,
  npuServers: count,
  npuCardsTotal: count,
  npuCardsFree: count,
  fp16TflopsTotal: amount,
  fp16TflopsFree: amount,
  fp32TflopsTotal: amount,
  fp32TflopsFree: amount,
  memoryGibTotal: count,
  memoryGibFree: count,
  storageGibTotal: count,
  storageGibFree: count,
  uplinkMbpsTotal: count,
  uplinkMbpsFree: count,
  uplinkTrafficGbFree: count,
  downlinkMbpsTotal: count,
  downlinkMbpsFree: count,
  downlinkTrafficGbFree: count,
});
export type InventoryData = z.infer<typeof inventoryData>;

/** Capacity held for orders (holds and allocations), the units a hold can take. */
export const heldData = z.object({
  cpuCores: count,
  gpuCards: count,
  npuCards: count,
  memoryGib: count,
  storageGib: count,
});
export type HeldData = z.infer<typeof heldData>;

export const acceleratorData = z.object({
  kind: z.enum(ACCELERATOR_KINDS),
  model: textOf(1, 64),
  domestic: z.boolean(),
});
export type AcceleratorData = z.infer<typeof acceleratorData>;

/** Prices in fen (0.01 CNY) per unit and hour. */
export const priceData = z.object({
  cpuCoreHourFen: count,
  gpuCardHourFen: count,
  npuCardHourFen: count,
  memoryGibHourFen: count,
  storageGibHourFen: count,
});
export type PriceData = z.infer<typeof priceData>;

/**
 * Everything selection needs to know about a pool, as of `version`: every pool event carries the
 * whole of it, so a consumer keeps a pool current by applying the newest version it has seen and
 * ignoring older ones (events of one pool may arrive late or twice).
 */
export const poolData = z.object({
  poolId: textOf(1, 64),
  /** Per-pool sequence: 1 at registration, one more for each change after. */
  version: z.number().int().positive().safe(),
  providerParticipantId: textOf(1, 128),
  name: textOf(1, 200),
  poolClass: z.enum(POOL_CLASSES),
  site: textOf(1, 64),
  regionCode: z.string().regex(/^\d{6}$/),
  accelerators: z.array(acceleratorData).max(16),
  securityLevel: z.number().int().min(1).max(4),
  datacenterTier: z.number().int().min(1).max(4),
  pue: z.number().min(1).max(3),
  renewableRatio: z.number().min(0).max(1),
  gflopsPerWatt: z.number().positive().max(1000),
  price: priceData,
  state: z.enum(POOL_STATES),
  /** Latest reported capacity; null before the first snapshot. */
  inventory: inventoryData.nullable(),
  inventorySequence: count,
  held: heldData,
  /** ISO 8601: when the provider last reported; null before the first report. */
  lastReportedAt: z.string().datetime().nullable(),
});
export type PoolData = z.infer<typeof poolData>;

const poolEvent = <const T extends string>(type: T, description: string) =>
  defineEvent({ type, stream: RESOURCE_STREAM, schemaVersion: 1, schema: poolData, description });

export const PoolRegistered = poolEvent(
  'cinode.resource.pool.registered',
  'A provider registered a resource pool; its identifier waits for filing.',
);
export const PoolUpdated = poolEvent(
  'cinode.resource.pool.updated',
  'A pool changed: new inventory, filing accepted, back online, or capacity held or released.',
);
export const PoolStale = poolEvent(
  'cinode.resource.pool.stale',
  'A pool stopped reporting for longer than the stale interval and left selection.',
);
export const PoolOffline = poolEvent(
  'cinode.resource.pool.offline',
  'A pool stopped reporting for longer than the offline interval.',
);
export const PoolSuspended = poolEvent(
  'cinode.resource.pool.suspended',
  'The identifier of a pool was suspended or retired; the pool left selection.',
);

/** Every pool event, for consumers that keep pools current (compute selection, monitoring). */
export const PoolChanges = defineEventSource({
  stream: RESOURCE_STREAM,
  filterSubject: 'cinode.resource.pool.>',
  events: [PoolRegistered, PoolUpdated, PoolStale, PoolOffline, PoolSuspended],
});

/** States of an allocation's task: reported by its provider, except `cancelled` (the node's). */
export const TASK_STATES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

/**
 * An allocation as of `version`: capacity of a pool allocated to an order (a confirmed hold; the
 * allocation's id is the hold's), run as a task by the pool's provider. Every allocation event
 * carries the whole of it, so a consumer applies the newest version it has seen and ignores older
 * ones.
 */
export const allocationData = z.object({
  allocationId: z.string().uuid(),
  holdId: z.string().uuid(),
  poolId: textOf(1, 64),
  providerParticipantId: textOf(1, 128),
  orderReference: textOf(1, 128),
  state: z.enum(TASK_STATES),
  /** The provider's word with its latest report, or why the node cancelled it; may be empty. */
  detail: textOf(0, 500),
  /** Per-allocation sequence: 1 at creation, one more for each change after. */
  version: z.number().int().positive().safe(),
  /** ISO 8601: when the state last changed (creation for AllocationCreated). */
  changedAt: z.string().datetime(),
});
export type AllocationData = z.infer<typeof allocationData>;

export const AllocationCreated = defineEvent({
  type: 'cinode.resource.allocation.created',
  stream: RESOURCE_STREAM,
  schemaVersion: 1,
  schema: allocationData,
  description: 'A hold was confirmed: its capacity is allocated to the order, the task pending.',
});

export const TaskStateChanged = defineEvent({
  type: 'cinode.resource.allocation.state-changed',
  stream: RESOURCE_STREAM,
  schemaVersion: 1,
  schema: allocationData,
  description:
    "An allocation's task changed state: running, completed or failed as its provider reported, or cancelled with its order.",
});

/** Every allocation event, under one subject filter (pool events, far more frequent, excluded). */
export const AllocationChanges = defineEventSource({
  stream: RESOURCE_STREAM,
  filterSubject: 'cinode.resource.allocation.>',
  events: [AllocationCreated, TaskStateChanged],
});
