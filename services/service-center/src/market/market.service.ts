import { Inject, Injectable, Logger } from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PageTokens,
  PermissionDeniedError,
  UnavailableError,
  fingerprintOf,
  resolvePageSize,
  truncateChars,
  uuidv7,
} from '@cinode/common';
import {
  DemandSubmitted,
  ORDER_EVENTS,
  ORDER_STATES,
  eventOf,
  type OrderStateName,
} from '@cinode/contracts';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import { toTimestamp } from '@cinode/grpc';
import {
  SelectionSnapshot,
  OrderState,
  type ListDemandsRequest,
  type ListOrdersRequest,
  type PlaceOrderRequest,
  type SubmitDemandRequest,
} from '@cinode/proto/gen/cinode/market/v1/market_service';
import { PoolClass } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import {
  Candidate,
  Demand,
  PathKind,
  Weights,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { readsEverything } from '../access';
import type { ServiceCenterConfig } from '../config';
import { ErrorReason } from '../errors';
import { QualificationsService } from '../qualifications/qualifications.service';
import type { DemandEntity } from './demand.entity';
import { CapacityRefusal, MARKET_PEERS, type MarketPeers } from './market-peers';
import {
  checkId,
  checkPlaceOrder,
  checkSubmitDemand,
  demandNotFound,
  holdResourcesOf,
  orderNotFound,
} from './market-input';
import { MarketRepository, type MarketScope } from './market.repository';
import type { OrderEntity } from './order.entity';

export const SUBMIT_DEMAND_OPERATION = 'SubmitDemand';
/** Demands carry up to 100 candidates each: pages stay well inside a gRPC message. */
const MAX_MARKET_PAGE = 100;
export const PLACE_ORDER_OPERATION = 'PlaceOrder';

/** How far along each state is: an order only ever moves forward. */
const RANK: Readonly<Record<OrderStateName, number>> = {
  placing: 0,
  confirmed: 1,
  running: 2,
  completed: 3,
  failed: 3,
  cancelled: 3,
  refused: 3,
};
const FINAL = new Set<OrderStateName>(['completed', 'failed', 'cancelled', 'refused']);
/** Orders ending in these leave their demand open for another order. */
const REOPENS_DEMAND = new Set<OrderStateName>(['failed', 'cancelled', 'refused']);
/** A place in the (state_changed_at, id) order of ended orders. */
type OrderPosition = { at: Date; id: string };
/** A recovery pass's count of passes and where the next one that goes on starts. */
interface Sweep {
  passes: number;
  cursor?: OrderPosition;
}

/** What a PLACING order moves to when its capacity is the buyer's: a reseller's must still resell. */
const ACTIVE = new Set<OrderStateName>(['confirmed', 'running']);

const REFUSAL_DETAIL: Readonly<Record<string, string>> = {
  INSUFFICIENT_CAPACITY: 'the pool no longer has the free capacity (another order took it)',
  POOL_NOT_SELECTABLE: 'the pool left selection (stale, offline or suspended)',
  POOL_NOT_FOUND: 'the pool no longer exists',
  HOLD_NOT_ACTIVE:
    'the hold ended before it was confirmed (it expired, or a cancellation released it)',
  HOLD_NOT_FOUND: 'the hold was lost',
  INSUFFICIENT_BANDWIDTH: 'the dedicated line no longer has the bandwidth (another order took it)',
  LINE_NOT_USABLE: 'the dedicated line is out of service or suspended',
  LINE_NOT_FOUND: 'the dedicated line no longer exists',
  LINE_HOLD_NOT_ACTIVE:
    "the line's hold ended before it was confirmed (it expired, or a cancellation released it)",
  LINE_HOLD_NOT_FOUND: "the line's hold was lost",
};

function orderFinished(order: OrderEntity): FailedPreconditionError {
  return new FailedPreconditionError(
    ErrorReason.ORDER_FINISHED,
    `order ${order.id} is ${order.state} and cannot be cancelled`,
    { metadata: { current_state: order.state.toUpperCase() } },
  );
}

function taskFinished(order: OrderEntity): FailedPreconditionError {
  return new FailedPreconditionError(
    ErrorReason.ORDER_FINISHED,
    `order ${order.id}'s task finished before this cancellation; its outcome is recorded as it arrives`,
    { metadata: { current_state: order.state.toUpperCase() } },
  );
}

/** Resource aggregation's reasons that mean the capacity itself cannot be had. */
const CAPACITY_REASONS = new Set(Object.keys(REFUSAL_DETAIL));

/** The detail a refused order keeps: aggregation's reason first, so a retry answers the same. */
function refusalDetail(reason: string, message: string): string {
  return `${reason}: ${REFUSAL_DETAIL[reason] ?? message}`;
}

/** PlaceOrder's answer for a refused order, first call or retry alike. */
function refusalOf(order: OrderEntity): FailedPreconditionError {
  const reason = /^([A-Z_]+): /.exec(order.detail)?.[1] ?? '';
  return new FailedPreconditionError(
    CAPACITY_REASONS.has(reason) ? ErrorReason.CAPACITY_UNAVAILABLE : ErrorReason.ORDER_REFUSED,
    `order ${order.id} was refused: ${order.detail}`,
    { metadata: { order_id: order.id, refusal: reason } },
  );
}

export const ORDER_STATE_OF: Readonly<Record<OrderStateName, OrderState>> = {
  placing: OrderState.ORDER_STATE_PLACING,
  confirmed: OrderState.ORDER_STATE_CONFIRMED,
  running: OrderState.ORDER_STATE_RUNNING,
  completed: OrderState.ORDER_STATE_COMPLETED,
  failed: OrderState.ORDER_STATE_FAILED,
  cancelled: OrderState.ORDER_STATE_CANCELLED,
  refused: OrderState.ORDER_STATE_REFUSED,
};

function orderStateNameOf(state: OrderState): OrderStateName | undefined {
  return ORDER_STATES.find((name) => ORDER_STATE_OF[name] === state);
}

function encoded(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Demands and orders. A demand stores compute selection's answer with it; an order takes its
 * candidate's capacity with a hold at resource aggregation and confirms it, after which the
 * provider's agent runs the task and its state comes back as events (AllocationEventsConsumer).
 */
@Injectable()
export class MarketService {
  private readonly logger = new Logger(MarketService.name);
  /** Where the recovery pass's next looks at ended orders' lines and holds start (see sweep). */
  private lineSweep: Sweep = { passes: 0 };
  private holdSweep: Sweep = { passes: 0 };

  constructor(
    private readonly uow: UnitOfWork,
    private readonly market: MarketRepository,
    private readonly qualifications: QualificationsService,
    private readonly pageTokens: PageTokens,
    @Inject(MARKET_PEERS) private readonly peers: MarketPeers,
    @InjectConfig() private readonly config: ServiceCenterConfig,
  ) {}

  async submitDemand(
    caller: Caller,
    request: SubmitDemandRequest,
  ): Promise<{ demand: DemandEntity; created: boolean }> {
    const forCustomers = hasRole(caller, 'reseller');
    checkSubmitDemand(request, forCustomers);
    const participantId = this.buyerOf(caller);
    // Checked on every call, retries included: a revoked qualification stops a reseller at once.
    if (forCustomers) await this.qualifications.assertMayActForCustomers(participantId);
    const demand = request.demand as Demand;
    const key = {
      scope: caller.subject,
      requestId: request.requestId,
      operation: SUBMIT_DEMAND_OPERATION,
      fingerprint: fingerprintOf({
        customerReference: request.customerReference,
        demand: encoded(Demand.encode(demand).finish()).toString('base64'),
        weights: request.weights
          ? encoded(Weights.encode(request.weights).finish()).toString('base64')
          : '',
        topK: request.topK,
      }),
    };
    const prior = await this.uow.priorOutcome(key);
    if (prior) return { demand: await this.existingDemand(prior), created: false };
    const answer = await this.peers.select(demand, request.weights, request.topK);
    const now = new Date();
    const snapshot: SelectionSnapshot = {
      candidates: answer.candidates,
      matched: answer.matched,
      considered: answer.considered,
      eliminations: answer.eliminations,
      selectedAt: toTimestamp(now),
    };
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      // Again once the answer is in (Select may take seconds), inside the insert's transaction and
      // through its connection: the participant and its qualification are locked FOR SHARE, so a
      // suspension or revocation either committed before (and refuses the demand) or waits until
      // the demand is stored.
      if (forCustomers) await this.qualifications.assertMayActForCustomers(participantId, now, tx);
      const row: DemandEntity = {
        id: uuidv7(now.getTime()),
        participantId,
        customerReference: request.customerReference,
        demand: encoded(Demand.encode(demand).finish()),
        weights: encoded(
          Weights.encode(
            request.weights ?? {
              price: 0,
              latency: 0,
              computeEfficiency: 0,
              carbonEfficiency: 0,
              security: 0,
            },
          ).finish(),
        ),
        topK: request.topK,
        selection: encoded(SelectionSnapshot.encode(snapshot).finish()),
        state: 'open',
        orderId: null,
        createdAt: now,
        stateChangedAt: now,
      };
      await this.market.insertDemand(tx, row);
      await tx.emit(
        eventOf(DemandSubmitted, {
          demandId: row.id,
          participantId,
          customerReference: row.customerReference,
          poolClass: demand.poolClass === PoolClass.POOL_CLASS_BARE_METAL ? 'A' : 'B',
          acceleratorModel: demand.acceleratorModel.trim(),
          acceleratorCount: demand.acceleratorCount,
          durationHours: demand.durationHours,
          userRegionCode: demand.userRegionCode,
          matched: answer.matched,
          considered: answer.considered,
          candidatePoolIds: answer.candidates.map((c) => c.poolId),
          submittedAt: now.toISOString(),
        }),
      );
      return { result: row, objectId: row.id };
    });
    if (outcome.created) return { demand: outcome.result, created: true };
    return { demand: await this.existingDemand(outcome), created: false };
  }

  async getDemand(caller: Caller, id: string): Promise<DemandEntity> {
    checkId('demand_id', id, 'a demand id');
    const demand = await this.market.findDemand(id);
    // Another participant's demand is answered as absent.
    if (!demand || !this.maySee(caller, demand)) throw demandNotFound(id);
    return demand;
  }

  async listDemands(
    caller: Caller,
    request: ListDemandsRequest,
  ): Promise<{ demands: DemandEntity[]; nextPageToken: string }> {
    const scope = this.scopeOf(caller, request.participantId, request.customerReference);
    const limit = Math.min(resolvePageSize(request.pageSize), MAX_MARKET_PAGE);
    const filterKey = `demands:${scope.participantId ?? '*'}:${scope.customerReference ?? '*'}`;
    const rows = await this.market.listDemands(
      scope,
      limit,
      this.pageTokens.decode(request.pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (d) => ({ after: d.createdAt.toISOString(), afterId: d.id }),
      filterKey,
    );
    return { demands: page, nextPageToken };
  }

  /**
   * Orders a candidate of the caller's demand. The order is stored first (PLACING), then its
   * capacity held and confirmed at resource aggregation; a retry of the request, or the
   * reconciler, resumes an order a failure left PLACING — the hold's request id is the order's, so
   * resuming never holds twice.
   */
  async placeOrder(
    caller: Caller,
    request: PlaceOrderRequest,
  ): Promise<{ order: OrderEntity; created: boolean }> {
    checkPlaceOrder(request);
    const poolId = request.poolId.toUpperCase();
    const demand = await this.market.findDemand(request.demandId);
    if (!demand || !this.maySee(caller, demand)) throw demandNotFound(request.demandId);
    if (demand.participantId !== caller.tenant)
      throw new PermissionDeniedError(
        ErrorReason.NOT_OWN_RECORD,
        "only the demand's submitter places orders on it",
      );
    if (hasRole(caller, 'reseller'))
      await this.qualifications.assertMayActForCustomers(demand.participantId);
    const key = {
      scope: caller.subject,
      requestId: request.requestId,
      operation: PLACE_ORDER_OPERATION,
      fingerprint: fingerprintOf({ demandId: demand.id, poolId }),
    };
    let created = false;
    let order: OrderEntity;
    const prior = await this.uow.priorOutcome(key);
    if (prior) order = await this.existingOrder(prior);
    else {
      const candidate = SelectionSnapshot.decode(demand.selection).candidates.find(
        (c) => c.poolId.toUpperCase() === poolId,
      );
      if (!candidate)
        throw new FailedPreconditionError(
          ErrorReason.NOT_A_CANDIDATE,
          `pool ${poolId} is not among the candidates of demand ${demand.id}`,
        );
      // A new order only: a retry of one placed in time goes on whenever it comes.
      this.refuseExpiredCandidates(demand);
      const outcome = await this.uow.idempotentInsert(key, (tx) =>
        this.insertOrder(tx, demand.id, candidate),
      );
      created = outcome.created;
      order = outcome.created ? outcome.result : await this.existingOrder(outcome);
    }
    if (order.state === 'placing') order = await this.complete(order);
    if (order.state === 'refused') throw refusalOf(order);
    return { order, created };
  }

  /**
   * Candidates selected longer ago than ORDER_CANDIDATE_MAX_AGE_SECONDS are not ordered: their
   * prices, the pool's security level (a cap since) and the path's latency are as selection saw
   * them then. The demand is submitted again for candidates of today.
   */
  private refuseExpiredCandidates(demand: DemandEntity): void {
    const maxAgeMs = this.config.ORDER_CANDIDATE_MAX_AGE_SECONDS * 1000;
    if (Date.now() - demand.createdAt.getTime() <= maxAgeMs) return;
    throw new FailedPreconditionError(
      ErrorReason.CANDIDATES_EXPIRED,
      `the candidates of demand ${demand.id} were selected at ${demand.createdAt.toISOString()}, ` +
        `more than ${this.config.ORDER_CANDIDATE_MAX_AGE_SECONDS} s ago; submit the demand again`,
      {
        metadata: {
          selected_at: demand.createdAt.toISOString(),
          max_age_seconds: String(this.config.ORDER_CANDIDATE_MAX_AGE_SECONDS),
        },
      },
    );
  }

  /** Cancels an unfinished order: releases its hold (the provider's agent sees its allocation cancelled). */
  async cancelOrder(caller: Caller, id: string, reason: string): Promise<OrderEntity> {
    checkId('order_id', id, 'an order id');
    new FieldChecks().text('reason', reason, { required: false, max: 500 }).throwIfAny();
    const order = await this.market.findOrder(id);
    if (!order || !this.maySee(caller, order)) throw orderNotFound(id);
    if (order.participantId !== caller.tenant && !hasRole(caller, 'operator'))
      throw new PermissionDeniedError(
        ErrorReason.NOT_OWN_RECORD,
        'only the submitter or an operator cancels an order',
      );
    const detail = reason.trim() || `cancelled by ${caller.subject}`;
    if (order.state === 'cancelled') {
      // A retry: release again (it changes nothing once done), in case the first call's release
      // of a hold recorded by a racing placement failed.
      const released = order.holdId
        ? await this.releaseForCancel(order, order.holdId, order.detail || detail)
        : undefined;
      if (released) await this.market.markHoldReleased(order.id);
      await this.releaseLineOfEnded(order, released?.ended).catch((error: unknown) =>
        this.lineLeft(order, error),
      );
      return order;
    }
    if (FINAL.has(order.state)) throw orderFinished(order);
    // Released first: an order is never shown cancelled while its capacity is still held.
    let holdEnded = true;
    if (order.holdId) {
      const released = await this.releaseForCancel(order, order.holdId, detail);
      // Its task had finished already (COMPLETED or FAILED, an event that has not reached this
      // service yet): that outcome is the order's, not a cancellation.
      if (released.taskEnded) throw taskFinished(order);
      holdEnded = released.ended;
    }
    const after = await this.move(id, 'cancelled', detail);
    if (after.state !== 'cancelled') throw orderFinished(after);
    // A hold recorded by a PlaceOrder resuming it meanwhile is released here, or by that call
    // when it finds the order cancelled; releasing twice changes nothing.
    let holdGivenBack = true;
    if (after.holdId && after.holdId !== order.holdId)
      holdEnded = await this.peers.releaseHold(after.holdId, detail).then(
        (released) => released.ended,
        (error: unknown) => {
          // The order is cancelled; the recovery pass releases the hold (releaseEndedHolds).
          if (!(error instanceof CapacityRefusal)) throw error;
          this.logger.warn(
            { err: error, orderId: id },
            'releasing the hold a placement recorded meanwhile was refused; the recovery pass retries',
          );
          holdGivenBack = false;
          return false;
        },
      );
    if (after.holdId && holdGivenBack) await this.market.markHoldReleased(id);
    // The line after the order is cancelled: compute selection down does not stop a cancellation
    // (the recovery pass gives the bandwidth back then). A task still stopping keeps its line.
    await this.releaseLineOfEnded(after, holdEnded).catch((error: unknown) =>
      this.lineLeft(after, error),
    );
    return after;
  }

  /**
   * A cancellation's release of the order's hold; a lasting refusal (not a peer down) is the
   * caller's to see as FAILED_PRECONDITION, with aggregation's reason.
   */
  private async releaseForCancel(
    order: Pick<OrderEntity, 'id'>,
    holdId: string,
    reason: string,
  ): Promise<{ taskEnded: boolean; ended: boolean }> {
    try {
      return await this.peers.releaseHold(holdId, reason);
    } catch (error) {
      if (!(error instanceof CapacityRefusal)) throw error;
      throw new FailedPreconditionError(
        ErrorReason.HOLD_RELEASE_REFUSED,
        `resource aggregation refused to release the hold of order ${order.id}: ${error.message}`,
        { metadata: { order_id: order.id, refusal: error.reason } },
      );
    }
  }

  private lineLeft(order: Pick<OrderEntity, 'id'>, error: unknown): void {
    this.logger.warn(
      { err: error, orderId: order.id },
      "could not give back the ended order's line bandwidth; the recovery pass will",
    );
  }

  /**
   * Gives back what the order holds: the pool's capacity, and the line's bandwidth unless a task
   * may still run under the pool's hold (it was confirmed: STOPPING until the provider reports
   * the task stopped), in which case the recovery pass gives the line back once the hold ends.
   */
  private async releaseHolds(
    order: Pick<OrderEntity, 'id' | 'holdId' | 'lineHoldId'>,
    reason: string,
  ): Promise<void> {
    let ended = true;
    if (order.holdId) {
      ended = (await this.peers.releaseHold(order.holdId, reason)).ended;
      await this.market.markHoldReleased(order.id);
    }
    if (!order.lineHoldId || !ended) return;
    await this.peers.releaseLineHold(order.lineHoldId, reason);
    await this.market.markLineReleased(order.id);
  }

  /**
   * Gives back the line bandwidth of an order that has ended (its task completed or failed, it was
   * cancelled or refused) and notes it; true when it did. The pool's capacity is given back by
   * resource aggregation with the task. A cancelled order, or one whose task the node failed (its
   * provider never started it), keeps its line until its hold has ended (`HoldStanding`): while it
   * is STOPPING the provider has not reported the task stopped and the grace has not passed, and
   * the task may still send its traffic; the recovery pass gives the line back once the hold has
   * ended. A hold still live under such an order (a cancellation's release failed, or lost a race
   * with a placement) is released here, as the order's end meant.
   * `holdEnded`: as a release just answered, when known.
   */
  async releaseLineOfEnded(order: OrderEntity, holdEnded?: boolean): Promise<boolean> {
    if (!order.lineHoldId || !FINAL.has(order.state) || order.lineReleasedAt) return false;
    if (
      (order.state === 'cancelled' || order.state === 'failed' || order.state === 'refused') &&
      order.holdId
    ) {
      let ended = holdEnded;
      if (ended === undefined) {
        const standing = await this.peers.holdStanding(order.holdId);
        ended =
          standing === 'live'
            ? (await this.peers.releaseHold(order.holdId, order.detail || `order ${order.state}`))
                .ended
            : standing === 'ended';
        if (order.state !== 'failed') await this.market.markHoldReleased(order.id);
      }
      if (!ended) return false;
    }
    await this.peers.releaseLineHold(order.lineHoldId, `order ${order.state}`);
    await this.market.markLineReleased(order.id);
    order.lineReleasedAt = new Date();
    return true;
  }

  /**
   * Gives back the pool holds of cancelled and refused orders they were not yet seen given back
   * for (resource aggregation could not be told as the order ended); returns how many it saw
   * given back. A hold still live is released; one already released, stopping or ended counts as
   * given back. A lasting refusal (not the peer down) is logged for an operator and not asked
   * again: asking again would change nothing.
   */
  async releaseEndedHolds(limit = 50): Promise<number> {
    const before = new Date(Date.now() - this.config.ORDER_RECOVERY_AFTER_SECONDS * 1000);
    return this.sweep(
      this.holdSweep,
      (from) => this.market.endedWithHoldHeld(before, limit, from),
      limit,
      "releasing an ended order's hold",
      async (order) => {
        const holdId = order.holdId!;
        try {
          if ((await this.peers.holdStanding(holdId)) === 'live')
            await this.peers.releaseHold(holdId, order.detail || `order ${order.state}`);
        } catch (error) {
          if (!(error instanceof CapacityRefusal)) throw error;
          this.logger.error(
            { err: error, orderId: order.id, holdId },
            "resource aggregation refused to release an ended order's hold; release it by hand",
          );
        }
        await this.market.markHoldReleased(order.id);
        return true;
      },
    );
  }

  /**
   * Gives back the line bandwidth of ended orders it was not yet seen given back for (compute
   * selection was down when they ended, or their cancelled task was still stopping); returns how
   * many.
   */
  async releaseEndedLines(limit = 50): Promise<number> {
    const before = new Date(Date.now() - this.config.ORDER_RECOVERY_AFTER_SECONDS * 1000);
    return this.sweep(
      this.lineSweep,
      (from) => this.market.endedWithLineHeld(before, limit, from),
      limit,
      "releasing an ended order's line bandwidth",
      (order) => this.releaseLineOfEnded(order),
    );
  }

  /**
   * One pass of the recovery over ended orders: `visit` each of up to `limit` that `fetch` finds
   * (in (state_changed_at, id) order, past a position when given one); returns how many it
   * settled. Every other pass goes on after the last order the one before it looked at (starting
   * over past the end), so orders whose tasks are still stopping, or whose release keeps failing,
   * never hold up those behind them; the passes between start at the oldest, so that orders
   * joining the set behind the cursor are never left waiting for it to come round. A peer down
   * fails the rest the same way, each only after its deadline: the pass ends there, and the next
   * one that goes on starts after that order (which it meets again when it comes round), so one
   * order that always fails cannot stop the others.
   */
  private async sweep(
    sweep: Sweep,
    fetch: (from: OrderPosition | undefined) => Promise<OrderEntity[]>,
    limit: number,
    what: string,
    visit: (order: OrderEntity) => Promise<boolean>,
  ): Promise<number> {
    sweep.passes += 1;
    const continuing = sweep.passes % 2 === 1;
    const orders = await fetch(continuing ? sweep.cursor : undefined);
    const positionOf = (order: OrderEntity) => ({ at: order.stateChangedAt, id: order.id });
    if (continuing)
      sweep.cursor = orders.length < limit ? undefined : positionOf(orders[orders.length - 1]);
    let settled = 0;
    for (const [i, order] of orders.entries()) {
      try {
        if (await visit(order)) settled += 1;
      } catch (error) {
        this.logger.warn({ err: error, orderId: order.id }, `${what} failed; will retry`);
        if (error instanceof UnavailableError) {
          if (continuing) sweep.cursor = positionOf(orders[i]);
          break;
        }
      }
    }
    return settled;
  }

  async getOrder(caller: Caller, id: string): Promise<OrderEntity> {
    checkId('order_id', id, 'an order id');
    const order = await this.market.findOrder(id);
    if (!order || !this.maySee(caller, order)) throw orderNotFound(id);
    return order;
  }

  async listOrders(
    caller: Caller,
    request: ListOrdersRequest,
  ): Promise<{ orders: OrderEntity[]; nextPageToken: string }> {
    const scope = this.scopeOf(caller, request.participantId, '');
    const state = orderStateNameOf(request.state);
    if (request.state !== OrderState.ORDER_STATE_UNSPECIFIED && !state)
      new FieldChecks().add('state', `unknown value ${request.state}`).throwIfAny();
    const limit = Math.min(resolvePageSize(request.pageSize), MAX_MARKET_PAGE);
    const filterKey = `orders:${scope.participantId ?? '*'}:${state ?? '*'}`;
    const rows = await this.market.listOrders(
      { ...scope, state },
      limit,
      this.pageTokens.decode(request.pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (o) => ({ after: o.createdAt.toISOString(), afterId: o.id }),
      filterKey,
    );
    return { orders: page, nextPageToken };
  }

  /**
   * Moves an order forward (never back, never out of a final state) and emits the state's event;
   * an order ending without its task finishing reopens its demand. Demand before order, always:
   * the lock order PlaceOrder takes too. Returns the order as it is afterwards.
   */
  async move(orderId: string, state: OrderStateName, detail: string): Promise<OrderEntity> {
    const order = await this.uow.run((tx) => this.moveIn(tx, orderId, state, detail));
    if (!order) throw orderNotFound(orderId);
    return order;
  }

  /**
   * `move` inside a transaction. With `task` (an allocation event), only the order's own
   * allocation, and only a newer event than the last applied one, changes anything.
   */
  async moveIn(
    tx: Tx,
    orderId: string,
    state: OrderStateName,
    detail: string,
    task?: { holdId: string; poolId: string; version: number },
  ): Promise<OrderEntity | undefined> {
    const result = await this.advanceIn(tx, orderId, state, detail, task);
    const refusal = result?.refusal;
    // A reseller's order its allocation's event would have made active after the reseller lapsed
    // is refused: what it holds is given back once this commits (no call to another service while
    // its rows are locked; the recovery pass gives back what that fails to). Not awaited: the next
    // event does not wait for resource aggregation.
    if (result?.moved && refusal)
      tx.afterCommit(() => {
        void this.giveBack(result.order, refusal, { holdId: null, lineHoldId: null });
      });
    return result?.order;
  }

  /**
   * `transitionIn`, and a reseller's PLACING order that would have become active after the
   * reseller lapsed (its `lapse`) REFUSED instead, in the same transaction (`refusal` its detail),
   * with the event's task if any, so the order notes its version.
   */
  private async advanceIn(
    tx: Tx,
    orderId: string,
    state: OrderStateName,
    detail: string,
    task?: { holdId: string; poolId: string; version: number },
  ): Promise<{ order: OrderEntity; moved: boolean; refusal?: string } | undefined> {
    const moved = await this.transitionIn(tx, orderId, state, detail, task);
    if (!moved?.lapse) return moved;
    const refusal = moved.lapse;
    const refused = await this.transitionIn(tx, orderId, 'refused', refusal, task, 'placing');
    return refused && { ...refused, refusal };
  }

  /**
   * `moveIn`, saying whether this call moved the order; with `from`, it moves only an order in
   * that state. A reseller's PLACING order becomes CONFIRMED or RUNNING only while the reseller
   * may still resell, checked here under the demand's and order's locks with the participant and
   * its qualifications locked FOR SHARE (see resaleLapse): a revocation, suspension or
   * decertification in flight either commits first, and the order stays PLACING with `lapse` its
   * refusal's detail (advanceIn then refuses it), or waits until the order has moved. The lock
   * order demand, order, participant, qualification is one no other transaction reverses: those
   * that lock a participant FOR UPDATE touch no demand or order.
   */
  private async transitionIn(
    tx: Tx,
    orderId: string,
    state: OrderStateName,
    detail: string,
    task?: { holdId: string; poolId: string; version: number },
    from?: OrderStateName,
  ): Promise<{ order: OrderEntity; moved: boolean; lapse?: string } | undefined> {
    const found = await this.market.findOrder(orderId, tx);
    if (!found) return undefined;
    const demand = await this.market.lockDemand(tx, found.demandId);
    const order = await this.market.lockOrder(tx, orderId);
    if (!demand || !order) return undefined;
    if (task) {
      // Only the order's own allocation moves it: anyone may name an order in a hold's reference.
      if (task.holdId !== order.holdId || task.poolId.toUpperCase() !== order.poolId)
        return { order, moved: false };
      if (task.version <= order.taskVersion) return { order, moved: false };
      order.taskVersion = task.version;
    }
    if (
      (from !== undefined && order.state !== from) ||
      FINAL.has(order.state) ||
      RANK[state] <= RANK[order.state]
    ) {
      if (task) await this.market.saveOrder(tx, order);
      return { order, moved: false };
    }
    if (order.state === 'placing' && ACTIVE.has(state)) {
      const lapse = await this.resaleLapse(order, tx);
      if (lapse) return { order, moved: false, lapse };
    }
    const previous = order.state;
    const now = new Date();
    order.state = state;
    order.detail = truncateChars(detail, 500);
    order.version += 1;
    order.stateChangedAt = now;
    await this.market.saveOrder(tx, order);
    await tx.emit(this.orderEvent(order, previous));
    if (REOPENS_DEMAND.has(state) && demand.orderId === order.id) {
      demand.state = 'open';
      demand.stateChangedAt = now;
      await this.market.saveDemand(tx, demand);
    }
    return { order, moved: true };
  }

  /**
   * Refuses a PLACING order and gives back what was held for it: the holds its row names (another
   * attempt may have recorded one after this one read the order) or, where it names none, those
   * this attempt took (`taken`). An order that has moved on meanwhile (another attempt confirmed
   * it, or it was cancelled or refused) stays as it is, and nothing is given back: its holds are
   * not this call's. Returns the order as it is.
   */
  private async refuse(
    orderId: string,
    detail: string,
    taken: Pick<OrderEntity, 'holdId' | 'lineHoldId'> = { holdId: null, lineHoldId: null },
  ): Promise<OrderEntity> {
    const result = await this.uow.run((tx) =>
      this.transitionIn(tx, orderId, 'refused', detail, undefined, 'placing'),
    );
    if (!result) throw orderNotFound(orderId);
    const { order, moved } = result;
    if (moved) await this.giveBack(order, detail, taken);
    return order;
  }

  /**
   * Gives back what was held for an order this call has just refused: the holds its row names or,
   * where it names none, those the attempt took (`taken`).
   */
  private async giveBack(
    order: OrderEntity,
    detail: string,
    taken: Pick<OrderEntity, 'holdId' | 'lineHoldId'>,
  ): Promise<void> {
    const holds = {
      id: order.id,
      holdId: order.holdId ?? taken.holdId,
      lineHoldId: order.lineHoldId ?? taken.lineHoldId,
    };
    if (holds.holdId || holds.lineHoldId)
      await this.releaseHolds(holds, detail).catch((error: unknown) =>
        this.logger.warn(
          { err: error, orderId: order.id },
          'releasing the holds of a refused order failed; the recovery pass gives them back',
        ),
      );
  }

  /**
   * Why a reseller may no longer have an order placed for its customer (its participant not
   * certified, no valid resale qualification), as an order's detail; undefined when it may, and
   * for any order not placed for a customer. Inside `tx` it locks the participant and its valid
   * qualifications FOR SHARE (see QualificationsService.check).
   */
  private async resaleLapse(order: OrderEntity, tx?: Tx): Promise<string | undefined> {
    if (order.customerReference === '') return undefined;
    let check: Awaited<ReturnType<QualificationsService['check']>>;
    try {
      check = await this.qualifications.check(order.participantId, new Date(), tx);
    } catch (error) {
      // Gone from the register: it may act for no one.
      if (error instanceof NotFoundError)
        return refusalDetail('PARTICIPANT_NOT_FOUND', 'the reseller is no longer registered');
      throw error;
    }
    if (check.allowed) return undefined;
    return refusalDetail(check.denialReason, 'the reseller may no longer act for customers');
  }

  /**
   * Records a PLACING order CONFIRMED, its peers having confirmed its holds; a reseller's order
   * whose reseller may no longer resell is REFUSED instead (see advanceIn).
   */
  private async confirm(
    placing: OrderEntity,
  ): Promise<{ order: OrderEntity; moved: boolean; refusal?: string }> {
    const result = await this.uow.run((tx) => this.advanceIn(tx, placing.id, 'confirmed', ''));
    if (!result) throw orderNotFound(placing.id);
    return result;
  }

  /** Resumes orders a failure left PLACING for longer than the recovery delay; returns how many. */
  async resumeUnfinished(limit = 50): Promise<number> {
    const before = new Date(Date.now() - this.config.ORDER_RECOVERY_AFTER_SECONDS * 1000);
    const orders = await this.market.unfinishedPlacements(before, limit);
    for (const order of orders) {
      try {
        await this.complete(order);
      } catch (error) {
        this.logger.warn({ err: error, orderId: order.id }, 'resuming an order failed; will retry');
      }
    }
    return orders.length;
  }

  private async insertOrder(
    tx: Tx,
    demandId: string,
    candidate: Candidate,
  ): Promise<{ result: OrderEntity; objectId: string }> {
    const demand = await this.market.lockDemand(tx, demandId);
    if (!demand) throw demandNotFound(demandId);
    if (demand.state === 'ordered')
      throw new FailedPreconditionError(
        ErrorReason.DEMAND_ALREADY_ORDERED,
        `demand ${demandId} already has an active or completed order (${demand.orderId ?? ''})`,
        { metadata: { order_id: demand.orderId ?? '' } },
      );
    const now = new Date();
    const order: OrderEntity = {
      id: uuidv7(now.getTime()),
      demandId,
      participantId: demand.participantId,
      customerReference: demand.customerReference,
      poolId: candidate.poolId.toUpperCase(),
      providerParticipantId: candidate.providerParticipantId,
      candidate: encoded(Candidate.encode(candidate).finish()),
      holdId: null,
      lineHoldId: null,
      lineReleasedAt: null,
      holdReleasedAt: null,
      state: 'placing',
      detail: '',
      version: 1,
      taskVersion: 0,
      createdAt: now,
      stateChangedAt: now,
    };
    await this.market.insertOrder(tx, order);
    demand.state = 'ordered';
    demand.orderId = order.id;
    demand.stateChangedAt = now;
    await this.market.saveDemand(tx, demand);
    await tx.emit(this.orderEvent(order, null));
    return { result: order, objectId: order.id };
  }

  /**
   * Holds and confirms a PLACING order's capacity, and for a candidate reached through a dedicated
   * line the line's bandwidth too; a refusal leaves it REFUSED with what it held given back.
   */
  private async complete(placing: OrderEntity): Promise<OrderEntity> {
    let holdId = placing.holdId;
    let lineHoldId = placing.lineHoldId;
    if (holdId) {
      // A copy loaded a while ago (the recovery pass works through a batch, each order with its
      // peers' deadlines): another attempt may have finished it meanwhile.
      const current = await this.market.findOrder(placing.id);
      if (!current) throw orderNotFound(placing.id);
      if (current.state !== 'placing') return current;
    }
    try {
      // A reseller's order resumed later is held, and confirmed, only while the reseller may
      // still resell: what an attempt before the lapse held for it is given back.
      const lapsed = await this.resaleLapse(placing);
      if (lapsed) return await this.refuse(placing.id, lapsed);
      if (!holdId) {
        const demand = await this.market.findDemand(placing.demandId);
        if (!demand) throw demandNotFound(placing.demandId);
        const pool = await this.peers.getPool(placing.poolId);
        const resources = holdResourcesOf(Demand.decode(demand.demand), pool);
        if (!resources) {
          const detail = refusalDetail(
            'MODEL_GONE',
            'the pool no longer offers the accelerator model',
          );
          return await this.refuse(placing.id, detail);
        }
        const hold = await this.peers.createHold({
          requestId: `order:${placing.id}`,
          poolId: placing.poolId,
          orderReference: placing.id,
          resources,
          ttlSeconds: this.config.ORDER_HOLD_TTL_SECONDS,
        });
        holdId = hold.holdId;
        const recorded = await this.recordHold(placing.id, 'holdId', holdId);
        if (recorded.holdId !== holdId) {
          // The order ended (cancelled) before this hold was recorded: give the capacity back.
          await this.peers.releaseHold(holdId, 'the order was cancelled while it was placed');
          return recorded;
        }
        // Another attempt (a retry, the recovery pass, another replica) got there first.
        if (recorded.state !== 'placing') return recorded;
      }
      const line = lineOf(placing);
      if (line && !lineHoldId) {
        const demand = await this.market.findDemand(placing.demandId);
        if (!demand) throw demandNotFound(placing.demandId);
        const { minBandwidthMbps, durationHours } = Demand.decode(demand.demand);
        const hold = await this.peers.holdLine({
          requestId: `order:${placing.id}`,
          lineId: line,
          orderReference: placing.id,
          // What the demand asked for; 1 Mbit/s, the least a line path offers, when it asked none.
          bandwidthMbps: Math.max(1, minBandwidthMbps),
          ttlSeconds: this.config.ORDER_HOLD_TTL_SECONDS,
          durationHours: Math.max(1, durationHours),
        });
        lineHoldId = hold.holdId;
        const recorded = await this.recordHold(placing.id, 'lineHoldId', lineHoldId);
        if (recorded.lineHoldId !== lineHoldId) {
          await this.peers.releaseLineHold(
            lineHoldId,
            'the order was cancelled while it was placed',
          );
          return recorded;
        }
        if (recorded.state !== 'placing') return recorded;
      }
      // Asked again before the provider is told, for a lapse while the holds were taken; the
      // transaction that records the confirmation asks once more, and decides.
      const lapsedSince = await this.resaleLapse(placing);
      if (lapsedSince) return await this.refuse(placing.id, lapsedSince, { holdId, lineHoldId });
      // The line first: a pool allocation is never confirmed to its provider without its line.
      if (lineHoldId) await this.peers.confirmLineHold(lineHoldId);
      await this.peers.confirmHold(holdId);
      const confirmed = await this.confirm(placing);
      if (confirmed.refusal) {
        // What this attempt confirmed is given back: the provider sees its allocation cancelled.
        if (confirmed.moved)
          await this.giveBack(confirmed.order, confirmed.refusal, { holdId, lineHoldId });
        return confirmed.order;
      }
      const after = confirmed.order;
      // Cancelled, or refused by another attempt, while this one confirmed: what this one
      // confirmed is given back (releasing twice changes nothing).
      if (after.state === 'cancelled' || after.state === 'refused')
        await this.releaseHolds(
          { id: placing.id, holdId, lineHoldId },
          `the order was ${after.state} while it was placed`,
        );
      return after;
    } catch (error) {
      if (!(error instanceof CapacityRefusal)) {
        // Tried again by the recovery pass, after the others left waiting longest.
        await this.market.touchPlacing(placing.id);
        throw error;
      }
      // What this attempt took, given back (with what the order's row names) now rather than
      // when its time runs out.
      return await this.refuse(placing.id, refusalDetail(error.reason, error.message), {
        holdId,
        lineHoldId,
      });
    }
  }

  /**
   * Notes a hold of a PLACING order — the pool's (`holdId`) or its line's (`lineHoldId`) — unless
   * the order has moved on or has one already; returns the order as it is.
   */
  private recordHold(
    orderId: string,
    field: 'holdId' | 'lineHoldId',
    id: string,
  ): Promise<OrderEntity> {
    return this.uow.run(async (tx) => {
      const found = await this.market.findOrder(orderId, tx);
      if (!found) throw orderNotFound(orderId);
      await this.market.lockDemand(tx, found.demandId);
      const order = await this.market.lockOrder(tx, orderId);
      if (!order) throw orderNotFound(orderId);
      if (order.state !== 'placing' || order[field]) return order;
      order[field] = id;
      await this.market.saveOrder(tx, order);
      return order;
    });
  }

  orderEvent(order: OrderEntity, previous: OrderStateName | null) {
    const candidate = Candidate.decode(order.candidate);
    return eventOf(ORDER_EVENTS[order.state], {
      orderId: order.id,
      demandId: order.demandId,
      participantId: order.participantId,
      customerReference: order.customerReference,
      poolId: order.poolId,
      providerParticipantId: order.providerParticipantId,
      regionCode: candidate.regionCode,
      priceFenPerHour: candidate.priceFenPerHour,
      totalPriceFen: candidate.totalPriceFen,
      holdId: order.holdId,
      state: order.state,
      previousState: previous,
      detail: order.detail,
      version: order.version,
      changedAt: order.stateChangedAt.toISOString(),
    });
  }

  /** The participant a demand is for: its submitter (a user, or a reseller acting for a customer). */
  private buyerOf(caller: Caller): string {
    if (!caller.tenant)
      throw new PermissionDeniedError(
        ErrorReason.NOT_OWN_RECORD,
        'only participants submit demands',
      );
    return caller.tenant;
  }

  private maySee(caller: Caller, row: { participantId: string }): boolean {
    return readsEverything(caller) || row.participantId === caller.tenant;
  }

  /** Whose rows a list shows: everyone's (filtered) for operators and regulators, else the caller's. */
  private scopeOf(caller: Caller, participantId: string, customerReference: string): MarketScope {
    const checks = new FieldChecks();
    if (participantId) checkId('participant_id', participantId, 'a participant id');
    checks.text('customer_reference', customerReference, { required: false, max: 128 });
    checks.throwIfAny();
    const customer = customerReference === '' ? undefined : customerReference;
    if (readsEverything(caller))
      return { participantId: participantId || undefined, customerReference: customer };
    if (participantId && participantId !== caller.tenant)
      throw new PermissionDeniedError(
        ErrorReason.NOT_OWN_RECORD,
        'participants may list only their own demands and orders',
      );
    return { participantId: caller.tenant, customerReference: customer };
  }

  private async existingDemand(outcome: { objectId: string }): Promise<DemandEntity> {
    const demand = await this.market.findDemand(outcome.objectId);
    if (!demand) throw new Error(`demand ${outcome.objectId} of a stored request is missing`);
    return demand;
  }

  private async existingOrder(outcome: { objectId: string }): Promise<OrderEntity> {
    const order = await this.market.findOrder(outcome.objectId);
    if (!order) throw new Error(`order ${outcome.objectId} of a stored request is missing`);
    return order;
  }
}

/** The dedicated line the order's candidate is reached through, if any. */
function lineOf(order: Pick<OrderEntity, 'candidate'>): string | undefined {
  const { path } = Candidate.decode(order.candidate);
  return path?.kind === PathKind.PATH_KIND_LINE && path.lineId ? path.lineId : undefined;
}
