import { toTimestamp } from '@cinode/grpc';
import {
  DemandState,
  SelectionSnapshot,
  type DemandRecord,
  type Order,
} from '@cinode/proto/gen/cinode/market/v1/market_service';
import {
  Candidate,
  Demand,
  Weights,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { DemandEntity, DemandStateName } from './demand.entity';
import { ORDER_STATE_OF } from './market.service';
import type { OrderEntity } from './order.entity';

const DEMAND_STATES: Readonly<Record<DemandStateName, DemandState>> = {
  open: DemandState.DEMAND_STATE_OPEN,
  ordered: DemandState.DEMAND_STATE_ORDERED,
};

export function toDemandRecord(demand: DemandEntity): DemandRecord {
  return {
    demandId: demand.id,
    participantId: demand.participantId,
    customerReference: demand.customerReference,
    demand: Demand.decode(demand.demand),
    weights: Weights.decode(demand.weights),
    topK: demand.topK,
    selection: SelectionSnapshot.decode(demand.selection),
    state: DEMAND_STATES[demand.state],
    orderId: demand.orderId ?? '',
    createdAt: toTimestamp(demand.createdAt),
    stateChangedAt: toTimestamp(demand.stateChangedAt),
  };
}

export function toOrderMessage(order: OrderEntity): Order {
  return {
    orderId: order.id,
    demandId: order.demandId,
    participantId: order.participantId,
    customerReference: order.customerReference,
    candidate: Candidate.decode(order.candidate),
    holdId: order.holdId ?? '',
    state: ORDER_STATE_OF[order.state],
    detail: order.detail,
    createdAt: toTimestamp(order.createdAt),
    stateChangedAt: toTimestamp(order.stateChangedAt),
    version: order.version,
    lineHoldId: order.lineHoldId ?? '',
  };
}
