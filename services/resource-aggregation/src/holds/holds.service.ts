import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import type { HeldData, TaskStateName } from '@cinode/contracts';
import {
  FailedPreconditionError,
  FieldChecks,
  PermissionDeniedError,
  NotFoundError,
  ResourceExhaustedError,
  fingerprintOf,
  uuidv7,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type {
  CreateHoldRequest,
  HoldResources,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { ResourceAggregationConfig } from '../config';
import { ErrorReason } from '../errors';
import { netFree } from '../inventory/inventory.service';
import { REQUEST_ID_PATTERN, checkPoolId, poolNotFound } from '../pools/pool-input';
import { FREE_FIELD_OF, NOTHING_HELD, poolStateOf } from '../pools/pool-view';
import type { PoolEntity } from '../pools/pool.entity';
import { PoolsRepository } from '../pools/pools.repository';
import { AllocationsService } from '../allocations/allocations.service';
import type { HoldEntity } from './hold.entity';
import { HELD_RESOURCES, HeldCapacity, addHeld } from './held-capacity';
import { holdIdOf } from './hold-input';
import { HoldsRepository, type DueHolds } from './holds.repository';

export const CREATE_HOLD_OPERATION = 'CreateHold';
const MAX_TTL_SECONDS = 3_600;
const MAX_UNITS = 1e12;

@Injectable()
export class HoldsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly holds: HoldsRepository,
    private readonly pools: PoolsRepository,
    private readonly capacity: HeldCapacity,
    private readonly allocations: AllocationsService,
    @InjectConfig() private readonly config: ResourceAggregationConfig,
  ) {}

  /**
   * Holds capacity of a pool under its row lock: the latest free capacity less every other hold
   * must cover the request, so concurrent holds can never take the same last unit twice.
   */
  async create(
    caller: Caller,
    request: CreateHoldRequest,
  ): Promise<{ hold: HoldEntity; created: boolean }> {
    const checks = new FieldChecks()
      .text('request_id', request.requestId, {
        max: 64,
        pattern: REQUEST_ID_PATTERN,
        patternHint: "must be letters, digits, '.', '_', ':' or '-'",
      })
      .text('order_reference', request.orderReference, { max: 128 });
    // Every bad field in one answer: the pool id among the others.
    const poolId = checkPoolId(checks, 'pool_id', request.poolId);
    const resources = checkResources(checks, request.resources);
    const ttl =
      request.ttlSeconds === 0 ? this.config.HOLD_DEFAULT_TTL_SECONDS : request.ttlSeconds;
    checks.range('ttl_seconds', ttl, 1, MAX_TTL_SECONDS);
    checks.throwIfAny();
    const key = {
      scope: caller.subject,
      requestId: request.requestId,
      operation: CREATE_HOLD_OPERATION,
      fingerprint: fingerprintOf({ poolId, order: request.orderReference, resources, ttl }),
    };
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      // The database's clock (the one reports are stamped with) judges silence.
      const now = await this.holds.databaseNow(tx);
      // First on the pool as last committed, without its row lock: when many orders race for
      // its last units, those arriving after the winner committed are refused at once instead
      // of queueing behind the lock, each holding a database connection. This runs after the
      // request id is taken (idempotentInsert), so a retry of a request that got its hold is
      // answered with that hold, never with this refusal. A request that meets a change still
      // uncommitted (a release, an expiry, a report bringing the pool back) is answered as of
      // before it, as it would have been had it come a moment earlier: the two overlap, and
      // either order is theirs. Then again under the lock, which is what decides.
      const seen = await this.pools.findById(poolId, tx);
      if (!seen) throw poolNotFound(poolId);
      this.refuseUnlessHoldable(seen, resources, now);
      const pool = await this.pools.lock(tx, poolId);
      if (!pool) throw poolNotFound(poolId);
      this.refuseUnlessHoldable(pool, resources, now);
      const hold: HoldEntity = {
        holdId: uuidv7(),
        poolId,
        orderReference: request.orderReference,
        resources,
        state: 'active',
        expiresAt: new Date(now.getTime() + ttl * 1000),
        createdBy: caller.subject,
        createdAt: now,
        stateChangedAt: now,
      };
      await this.holds.insert(tx, hold);
      await this.capacity.change(tx, pool, resources, 1);
      return { result: hold, objectId: hold.holdId };
    });
    if (outcome.created) return { hold: outcome.result, created: true };
    return { hold: await this.get(outcome.objectId), created: false };
  }

  /**
   * Refuses a hold the pool cannot take: not online, or silent longer than the stale interval
   * (even before the sweep marks it), quarantined, or without the free capacity (less every
   * hold) the request asks.
   */
  private refuseUnlessHoldable(pool: PoolEntity, resources: HeldData, now: Date): void {
    const silent =
      !pool.lastReportedAt ||
      now.getTime() - pool.lastReportedAt.getTime() > this.config.POOL_STALE_AFTER_SECONDS * 1000;
    const state = silent && poolStateOf(pool) === 'online' ? 'stale' : poolStateOf(pool);
    if (state !== 'online')
      throw new FailedPreconditionError(
        ErrorReason.POOL_NOT_SELECTABLE,
        `pool ${pool.poolId} is ${state}, not online`,
        { metadata: { current_state: state.toUpperCase() } },
      );
    refuseQuarantined(pool);
    refuseUnlessFree(pool, resources);
  }

  /**
   * Confirms an active hold; confirming a confirmed one changes nothing. Only its creator (or an
   * operator) confirms it: another caller could otherwise turn a hold left to expire into an
   * allocation the provider runs with no order behind it.
   */
  async confirm(caller: Caller, holdIdInput: string): Promise<HoldEntity> {
    return this.transition(holdIdInput, async (tx, hold, pool) => {
      if (hold.createdBy !== caller.subject && !caller.roles.includes('operator'))
        throw new PermissionDeniedError(
          'NOT_HOLDER',
          `hold ${hold.holdId} was created by another caller; only it or an operator confirms it`,
        );
      if (hold.state === 'confirmed') {
        // A hold confirmed by a replica older than allocations (a rolling upgrade) has none yet:
        // confirming it again gives its provider the allocation.
        if (!(await this.allocations.exists(tx, hold.holdId)))
          await this.allocations.open(tx, hold, pool, hold.stateChangedAt);
        return;
      }
      // Expiry is judged by the database's clock, as the sweep that expires holds judges it.
      const now = await this.holds.databaseNow(tx);
      if (hold.state !== 'active' || hold.expiresAt.getTime() <= now.getTime())
        throw new FailedPreconditionError(
          ErrorReason.HOLD_NOT_ACTIVE,
          `hold ${hold.holdId} is ${hold.state === 'active' ? 'expired' : hold.state}`,
          {
            metadata: {
              current_state: hold.state === 'active' ? 'EXPIRED' : hold.state.toUpperCase(),
            },
          },
        );
      // Out of selection since it was held (a demand's candidates are kept with it, and an order
      // left placing is resumed later, so a confirmation can come long after its hold): a pool
      // whose filing was withdrawn (suspended), that went offline or that was quarantined gets
      // no new allocation. A stale one does: it missed a report or two, and the provider's agent
      // sees the allocation when it reports again.
      refuseUnlessConfirmable(pool);
      refuseQuarantined(pool);
      hold.state = 'confirmed';
      // The database's clock, which the sweeps compare the allocation's age with.
      hold.stateChangedAt = now;
      await this.holds.setState(tx, hold.holdId, 'confirmed', hold.stateChangedAt);
      // The pool's provider receives it as an allocation, in the same transaction.
      await this.allocations.open(tx, hold, pool, hold.stateChangedAt);
    });
  }

  /**
   * Ends a hold: an active one gives its capacity back at once (the order was cancelled before its
   * confirmation); a confirmed one cancels its allocation and turns STOPPING, its capacity held
   * until the provider reports the task stopped (or the stop grace passes), since the task may run
   * until the provider's agent sees the cancellation. A stopping, released or expired hold stays
   * as it is. `releasedNow`: this call ended the hold's claim.
   */
  async release(
    caller: Caller,
    holdIdInput: string,
    reason: string,
  ): Promise<{ hold: HoldEntity; releasedNow: boolean; allocationState?: TaskStateName }> {
    new FieldChecks().text('reason', reason, { required: false, max: 500 }).throwIfAny();
    let releasedNow = false;
    let allocationState: TaskStateName | undefined;
    const hold = await this.transition(holdIdInput, async (tx, hold, pool) => {
      // As of this attempt (a unit of work may run its work again).
      releasedNow = false;
      allocationState = undefined;
      // An allocation is ended by whoever made it, or by an operator; with a reason.
      if (hold.state === 'confirmed') {
        if (hold.createdBy !== caller.subject && !caller.roles.includes('operator'))
          throw new PermissionDeniedError(
            'NOT_HOLDER',
            `hold ${hold.holdId} was confirmed by another caller; only it or an operator ends it`,
          );
        new FieldChecks().text('reason', reason, { max: 500 }).throwIfAny();
      }
      if (hold.state === 'stopping' || hold.state === 'released' || hold.state === 'expired') {
        // How its allocation (if it had one) ended: a task that finished, or a cancellation.
        allocationState = await this.allocations.stateOf(tx, hold.holdId);
        return;
      }
      // The database's clock, which the stop grace is judged by.
      const at = await this.holds.databaseNow(tx);
      if (hold.state === 'confirmed')
        allocationState = await this.allocations.cancel(tx, hold.holdId, reason, at);
      // A task this call cancelled may still run: its capacity is not free until it stops.
      const next = allocationState === 'cancelled' ? 'stopping' : 'released';
      hold.state = next;
      hold.stateChangedAt = at;
      await this.holds.setState(tx, hold.holdId, next, at);
      if (next === 'released') await this.capacity.change(tx, pool, hold.resources, -1);
      releasedNow = true;
    });
    return { hold, releasedNow, allocationState };
  }

  async get(holdIdInput: string): Promise<HoldEntity> {
    const holdId = holdIdOf(holdIdInput);
    const hold = await this.holds.findById(holdId);
    if (!hold) throw holdNotFound(holdId);
    return hold;
  }

  /** Expires the active holds past their time, pool by pool; returns how many. */
  expireDue(limit = 500): Promise<number> {
    return this.endDue({ kind: 'expiry' }, limit);
  }

  /**
   * Gives back the capacity of holds stopping for `graceSeconds` whose providers never reported
   * their tasks stopped, pool by pool; returns how many.
   */
  releaseStopped(graceSeconds: number, limit = 500): Promise<number> {
    return this.endDue({ kind: 'stop-grace', graceSeconds }, limit);
  }

  /**
   * Ends the holds `due` has run out, pool by pool under the pool's lock, capacity given back. A
   * pool whose row another transaction holds is left for the next sweep: another replica's sweep
   * is ending its holds, or a report or an order has it for a moment; waiting for it would hold a
   * database connection and this sweep's other pools.
   */
  private async endDue(due: DueHolds, limit: number): Promise<number> {
    let ended = 0;
    for (const poolId of await this.holds.poolsWithDue(due, limit)) {
      ended += await this.uow.run(async (tx) => {
        const pool = await this.pools.lockIfFree(tx, poolId);
        if (!pool) return 0;
        const holds = await this.holds.endDue(tx, poolId, due);
        if (holds.length === 0) return 0;
        const released = holds.reduce((sum, h) => addHeld(sum, h.resources, 1), {
          ...NOTHING_HELD,
        });
        await this.capacity.change(tx, pool, released, -1);
        return holds.length;
      });
    }
    return ended;
  }

  /** Locks the hold's pool, then the hold, and runs `change` on them. */
  private async transition(
    holdIdInput: string,
    change: (tx: Tx, hold: HoldEntity, pool: PoolEntity) => Promise<void>,
  ): Promise<HoldEntity> {
    const holdId = holdIdOf(holdIdInput);
    return this.uow.run(async (tx) => {
      const found = await this.holds.findById(holdId, tx);
      if (!found) throw holdNotFound(holdId);
      const pool = await this.pools.lock(tx, found.poolId);
      const hold = await this.holds.lock(tx, holdId);
      if (!pool || !hold) throw holdNotFound(holdId);
      tx.objectId = holdId;
      await change(tx, hold, pool);
      return hold;
    });
  }
}

/** Confirmed only while the pool is filed and reporting, or has just missed a report (stale). */
function refuseUnlessConfirmable(pool: PoolEntity): void {
  const state = poolStateOf(pool);
  if (state !== 'online' && state !== 'stale')
    throw new FailedPreconditionError(
      ErrorReason.POOL_NOT_SELECTABLE,
      `pool ${pool.poolId} is ${state}; its holds are no longer confirmed`,
      { metadata: { current_state: state.toUpperCase() } },
    );
}

/** A pool the security service quarantined (it or its provider) is neither held nor allocated. */
function refuseQuarantined(pool: PoolEntity): void {
  if (pool.quarantined)
    throw new FailedPreconditionError(
      ErrorReason.POOL_NOT_SELECTABLE,
      `pool ${pool.poolId} is quarantined by the security service`,
      { metadata: { current_state: 'QUARANTINED' } },
    );
}

function checkResources(checks: FieldChecks, resources: HoldResources | undefined): HeldData {
  const held = { ...NOTHING_HELD };
  if (!resources) {
    checks.add('resources', 'is required');
    return held;
  }
  for (const [field, wire] of HELD_RESOURCES) {
    const value = resources[field];
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_UNITS)
      checks.add(`resources.${wire}`, `must be a whole number between 0 and ${MAX_UNITS}`);
    else held[field] = value;
  }
  if (HELD_RESOURCES.every(([field]) => held[field] === 0))
    checks.add('resources', 'must ask for at least one unit of something');
  return held;
}

function holdNotFound(holdId: string): NotFoundError {
  return new NotFoundError(ErrorReason.HOLD_NOT_FOUND, `hold ${holdId} does not exist`);
}

/** RESOURCE_EXHAUSTED naming the first resource the pool's free capacity (less holds) lacks. */
function refuseUnlessFree(
  pool: Pick<PoolEntity, 'poolId' | 'inventory' | 'held'>,
  resources: HeldData,
): void {
  const free = netFree(pool);
  for (const [field, wire] of HELD_RESOURCES) {
    if (resources[field] > free[FREE_FIELD_OF[field]])
      throw new ResourceExhaustedError(
        ErrorReason.INSUFFICIENT_CAPACITY,
        `pool ${pool.poolId} has ${free[FREE_FIELD_OF[field]]} ${wire} free, ${resources[field]} asked`,
        { metadata: { resource: wire, free: String(free[FREE_FIELD_OF[field]]) } },
      );
  }
}
