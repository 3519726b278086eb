import { z } from 'zod';
import {
  ContractViolationError,
  defineEvent,
  defineEventSource,
  defineStream,
  textOf,
} from './contract';

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
  /**
   * The highest security protection level selection may credit the pool with while the security
   * service's risk assessment of it lasts (RiskChanged); null or absent when its claimed level
   * stands. Absent from older producers' events, as is `quarantined`.
   */
  securityLevelCap: z.number().int().min(1).max(4).nullable().optional(),
  /** The pool or its provider is quarantined: out of selection whatever its state. Absent: false. */
  quarantined: z.boolean().optional(),
});
export type PoolData = z.infer<typeof poolData>;

/**
 * What pool events check their data with: `isPoolData` first (a few field tests, about a hundred
 * times cheaper than zod on this object, and pool events are the node's busiest), zod only when
 * that refuses, to accept what zod accepts and name the fields it refuses. `isPoolData` never
 * accepts what `poolData` refuses (pool-data-check.spec.ts tries it on mutated pools); on
 * the fast path the data is returned as it came, members unknown to this version included.
 */
export const checkedPoolData = z.unknown().transform((value, ctx): PoolData => {
  if (isPoolData(value)) return value;
  const parsed = poolData.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue(issue);
  return z.NEVER;
});

const poolEvent = <const T extends string>(type: T, description: string) =>
  defineEvent({
    type,
    stream: RESOURCE_STREAM,
    schemaVersion: 1,
    schema: checkedPoolData,
    description,
  });

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

/** Most pools one PoolsReported event carries (about 1.2 kB of JSON each). */
export const MAX_POOLS_PER_REPORT_EVENT = 200;
/** Most bytes the pools of one PoolsReported event may take, well below NATS's 1 MiB. */
export const MAX_REPORT_EVENT_BYTES = 512 * 1024;

/**
 * Pools that their providers' reports changed (new inventory, or back online), several per event:
 * one transaction of a busy provider changes hundreds of pools, and one event per pool would cost
 * a JetStream message, a relay round slot and a decode at every consumer each. Each element is a
 * whole pool as of its version, exactly as PoolUpdated would carry it. The elements are checked
 * one by one — by the producer (poolsReportedData.pools items with checkedPoolData, see
 * `checkReportedPools`) and by consumers (`poolsOf`) — so a pool one consumer cannot read (a
 * newer producer's value, in a rolling upgrade) costs that pool, not the other 199.
 */
export const poolsReportedData = z.object({
  pools: z.array(z.unknown()).min(1).max(MAX_POOLS_PER_REPORT_EVENT),
});
/** The pools as they travel, each unchecked until `poolsOf` reads it. */
export type PoolsReportedData = z.infer<typeof poolsReportedData>;

export const PoolsReported = defineEvent({
  type: 'cinode.resource.pool.reported',
  stream: RESOURCE_STREAM,
  schemaVersion: 1,
  schema: poolsReportedData,
  description:
    "Pools changed by their providers' reports (new inventory, or back online), up to 200 per event, each whole as of its version.",
});

/** The producer's check of a PoolsReported batch: every pool valid, or ContractViolationError. */
export function checkReportedPools(pools: readonly unknown[]): PoolData[] {
  return pools.map((pool, i) => {
    const parsed = checkedPoolData.safeParse(pool);
    if (!parsed.success)
      throw new ContractViolationError(
        `${PoolsReported.type}: pools.${i}: ${parsed.error.issues
          .slice(0, 5)
          .map((issue) => `${issue.path.join('.') || '(pool)'}: ${issue.message}`)
          .join('; ')}`,
      );
    return parsed.data;
  });
}

/**
 * An upper bound of a pool's JSON size: fixed members and numbers within 2 kB, and at most 3 bytes
 * (UTF-8, escapes) per UTF-16 unit of its text.
 */
export function poolJsonBound(pool: PoolData): number {
  let text =
    pool.poolId.length + pool.providerParticipantId.length + pool.name.length + pool.site.length;
  for (const accelerator of pool.accelerators) text += accelerator.model.length + 40;
  return 2_048 + 3 * text;
}

/** Every pool event, for consumers that keep pools current (compute selection, monitoring). */
export const PoolChanges = defineEventSource({
  stream: RESOURCE_STREAM,
  filterSubject: 'cinode.resource.pool.>',
  events: [PoolRegistered, PoolUpdated, PoolStale, PoolOffline, PoolSuspended, PoolsReported],
});

/**
 * The pools an event of PoolChanges carries: one, or several for PoolsReported, each checked on its
 * own; one that is not pool data is left out and handed to `malformed` (its index and why).
 */
export function poolsOf(
  event: { readonly type: string; readonly data: unknown },
  malformed?: (index: number, problem: string) => void,
): PoolData[] {
  if (event.type !== PoolsReported.type) return [event.data as PoolData];
  const pools: PoolData[] = [];
  for (const [i, pool] of (event.data as PoolsReportedData).pools.entries()) {
    const parsed = checkedPoolData.safeParse(pool);
    if (parsed.success) pools.push(parsed.data);
    else
      malformed?.(
        i,
        parsed.error.issues
          .slice(0, 5)
          .map((issue) => `${issue.path.join('.') || '(pool)'}: ${issue.message}`)
          .join('; '),
      );
  }
  return pools;
}

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
  /**
   * ISO 8601: when the allocation was created (its order confirmed), on every event of it, so a
   * consumer that handles a task's change before its AllocationCreated (a redelivery) still knows
   * when it began. Absent from producers before it.
   */
  createdAt: z.string().datetime().optional(),
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

const CLASS_SET: ReadonlySet<unknown> = new Set(POOL_CLASSES);
const STATE_SET: ReadonlySet<unknown> = new Set(POOL_STATES);
const KIND_SET: ReadonlySet<unknown> = new Set(ACCELERATOR_KINDS);
const INVENTORY_COUNTS = Object.keys(inventoryData.shape).filter((k) => !k.includes('Tflops'));
const INVENTORY_AMOUNTS = Object.keys(inventoryData.shape).filter((k) => k.includes('Tflops'));
const HELD_COUNTS = Object.keys(heldData.shape);
const PRICE_COUNTS = Object.keys(priceData.shape);
const REGION_CODE = /^\d{6}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isAmount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isInt(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isNumber(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && value >= min && value <= max;
}

/**
 * 1 to `max` characters: UTF-16 units count at least the code points, so a length in range
 * guarantees what textOf(1, max) asks for.
 */
function isText(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

function allOf(value: unknown, keys: readonly string[], test: (v: unknown) => boolean): boolean {
  if (!isObject(value)) return false;
  for (const key of keys) if (!test(value[key])) return false;
  return true;
}

/** An ISO 8601 instant as Date.prototype.toISOString writes it (which z.string().datetime() takes). */
function isIsoInstant(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== 24) return false;
  const time = Date.parse(value);
  return Number.isFinite(time) && new Date(time).toISOString() === value;
}

/**
 * Whether `value` is pool data, tested field by field without allocating: never true where
 * `poolData` would refuse, possibly false where it would accept (a timestamp written another way,
 * text near its limit in UTF-16 units); checkedPoolData then asks zod.
 */
export function isPoolData(value: unknown): value is PoolData {
  if (!isObject(value)) return false;
  const accelerators = value.accelerators;
  if (!Array.isArray(accelerators) || accelerators.length > 16) return false;
  for (const a of accelerators) {
    if (!isObject(a) || !KIND_SET.has(a.kind) || !isText(a.model, 64)) return false;
    if (typeof a.domestic !== 'boolean') return false;
  }
  const inventory = value.inventory;
  return (
    isText(value.poolId, 64) &&
    isInt(value.version, 1, Number.MAX_SAFE_INTEGER) &&
    isText(value.providerParticipantId, 128) &&
    isText(value.name, 200) &&
    CLASS_SET.has(value.poolClass) &&
    isText(value.site, 64) &&
    typeof value.regionCode === 'string' &&
    REGION_CODE.test(value.regionCode) &&
    isInt(value.securityLevel, 1, 4) &&
    isInt(value.datacenterTier, 1, 4) &&
    isNumber(value.pue, 1, 3) &&
    isNumber(value.renewableRatio, 0, 1) &&
    isNumber(value.gflopsPerWatt, Number.MIN_VALUE, 1000) &&
    allOf(value.price, PRICE_COUNTS, isCount) &&
    STATE_SET.has(value.state) &&
    (inventory === null ||
      (allOf(inventory, INVENTORY_COUNTS, isCount) &&
        allOf(inventory, INVENTORY_AMOUNTS, isAmount))) &&
    isCount(value.inventorySequence) &&
    allOf(value.held, HELD_COUNTS, isCount) &&
    (value.lastReportedAt === null || isIsoInstant(value.lastReportedAt)) &&
    (value.securityLevelCap === undefined ||
      value.securityLevelCap === null ||
      isInt(value.securityLevelCap, 1, 4)) &&
    (value.quarantined === undefined || typeof value.quarantined === 'boolean')
  );
}
