import { z } from 'zod';
import { POOL_CLASSES } from './resource';
import { defineEvent, defineEventSource, defineStream, textOf } from './contract';

/** The service center's market stream: demands and the orders placed on them. */
export const MARKET_STREAM = defineStream({
  name: 'MARKET',
  subjects: ['cinode.market.>'],
  owner: 'service-center',
  description:
    'Demands, their selection answers, and orders through to task completion (service center)',
});

export const ORDER_STATES = [
  'placing',
  'confirmed',
  'running',
  'completed',
  'failed',
  'cancelled',
  'refused',
] as const;
export type OrderStateName = (typeof ORDER_STATES)[number];

const uuid = z.string().uuid();
const count = z.number().int().nonnegative().safe();
const fen = z.number().int().nonnegative().safe();

export const demandSubmittedData = z.object({
  demandId: uuid,
  participantId: uuid,
  /** The reseller's customer; empty for a user's own demand. */
  customerReference: textOf(0, 128),
  poolClass: z.enum(POOL_CLASSES),
  acceleratorModel: textOf(0, 64),
  acceleratorCount: count,
  durationHours: z.number().int().min(1).max(8_760),
  userRegionCode: z.string().regex(/^(\d{6})?$/),
  /** Pools that met every constraint, of those considered. */
  matched: count,
  considered: count,
  /** The candidates kept, best first. */
  candidatePoolIds: z.array(textOf(1, 64)).max(100),
  submittedAt: z.string().datetime(),
});
export type DemandSubmittedData = z.infer<typeof demandSubmittedData>;

export const DemandSubmitted = defineEvent({
  type: 'cinode.market.demand.submitted',
  stream: MARKET_STREAM,
  schemaVersion: 1,
  schema: demandSubmittedData,
  description: 'A user or reseller submitted a demand; its selection answer is stored with it.',
});

export const orderEventData = z.object({
  orderId: uuid,
  demandId: uuid,
  participantId: uuid,
  customerReference: textOf(0, 128),
  poolId: textOf(1, 64),
  providerParticipantId: textOf(1, 128),
  regionCode: z.string().regex(/^\d{6}$/),
  priceFenPerHour: fen,
  totalPriceFen: fen,
  /** The hold (and allocation) at resource aggregation; null until taken. */
  holdId: uuid.nullable(),
  state: z.enum(ORDER_STATES),
  previousState: z.enum(ORDER_STATES).nullable(),
  detail: textOf(0, 500),
  /** 1 when placed, one more for each change. */
  version: z.number().int().positive().safe(),
  changedAt: z.string().datetime(),
});
export type OrderEventData = z.infer<typeof orderEventData>;

const orderEvent = <const T extends string>(type: T, description: string) =>
  defineEvent({
    type,
    stream: MARKET_STREAM,
    schemaVersion: 1,
    schema: orderEventData,
    description,
  });

export const OrderPlaced = orderEvent(
  'cinode.market.order.placed',
  'An order was placed on a candidate; its capacity is being held.',
);
export const OrderConfirmed = orderEvent(
  'cinode.market.order.confirmed',
  "An order's capacity was held and confirmed; the provider has the allocation.",
);
export const OrderRunning = orderEvent(
  'cinode.market.order.running',
  "The provider started the order's task.",
);
export const OrderCompleted = orderEvent(
  'cinode.market.order.completed',
  "The order's task completed; its capacity returned to the pool.",
);
export const OrderFailed = orderEvent(
  'cinode.market.order.failed',
  "The order's task failed; its capacity returned to the pool.",
);
export const OrderCancelled = orderEvent(
  'cinode.market.order.cancelled',
  'The order was cancelled before it finished; its hold was released.',
);
export const OrderRefused = orderEvent(
  'cinode.market.order.refused',
  'The capacity of the order could not be held (taken by another order, or the pool left selection).',
);

/** The event of each order state. */
export const ORDER_EVENTS = {
  placing: OrderPlaced,
  confirmed: OrderConfirmed,
  running: OrderRunning,
  completed: OrderCompleted,
  failed: OrderFailed,
  cancelled: OrderCancelled,
  refused: OrderRefused,
} as const satisfies Record<OrderStateName, unknown>;

/** Every market event, for monitoring. */
export const MarketChanges = defineEventSource({
  stream: MARKET_STREAM,
  filterSubject: 'cinode.market.>',
  events: [
    DemandSubmitted,
    OrderPlaced,
    OrderConfirmed,
    OrderRunning,
    OrderCompleted,
    OrderFailed,
    OrderCancelled,
    OrderRefused,
  ],
});
