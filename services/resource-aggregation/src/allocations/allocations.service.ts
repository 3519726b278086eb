import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { AllocationCreated, TaskStateChanged, type TaskStateName } from '@cinode/contracts';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PageTokens,
  PermissionDeniedError,
  fingerprintOf,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import {
  TaskState,
  type ListAllocationsRequest,
  type ReportTaskStateRequest,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { ErrorReason } from '../errors';
import { HeldCapacity } from '../holds/held-capacity';
import type { HoldEntity } from '../holds/hold.entity';
import { checkHoldId } from '../holds/hold-input';
import { HoldsRepository } from '../holds/holds.repository';
import { seesEveryPool } from '../pools/pool-access';
import { REQUEST_ID_PATTERN, checkPoolId } from '../pools/pool-input';
import type { PoolEntity } from '../pools/pool.entity';
import { PoolsRepository } from '../pools/pools.repository';
import type { AllocationEntity } from './allocation.entity';
import { allocationEvent, taskStateNameOf } from './allocation-view';
import { AllocationsRepository } from './allocations.repository';

export const REPORT_TASK_STATE_OPERATION = 'ReportTaskState';
const MAX_DETAIL = 500;

/** The states a task moves to on its provider's report (CANCELLED is only acknowledged). */
export type ReportedTaskState = Exclude<TaskStateName, 'cancelled'>;
const FINAL: ReadonlySet<TaskStateName> = new Set(['completed', 'failed', 'cancelled']);
/** Where each state may go: forwards only. */
const NEXT: Readonly<Record<ReportedTaskState, readonly ReportedTaskState[]>> = {
  pending: ['running', 'completed', 'failed'],
  running: ['completed', 'failed'],
  completed: [],
  failed: [],
};

/**
 * Whether a task moves from `current` to the `reported` state: `false` when it is there already (a
 * retry changes nothing); a refusal when it cannot go there.
 */
export function taskMoves(current: TaskStateName, reported: ReportedTaskState): boolean {
  if (current === 'cancelled')
    throw new FailedPreconditionError(
      ErrorReason.ALLOCATION_CANCELLED,
      'the allocation was cancelled with its order; stop the task',
      { metadata: { current_state: 'CANCELLED' } },
    );
  if (current === reported) return false;
  if (NEXT[current].includes(reported)) return true;
  throw new FailedPreconditionError(
    ErrorReason.INVALID_TASK_TRANSITION,
    FINAL.has(current)
      ? `the task is ${current}, which is final`
      : `the task is ${current} and cannot go back to ${reported}`,
    { metadata: { current_state: current.toUpperCase() } },
  );
}

/**
 * Allocations: what a confirmed hold becomes for the pool's provider, who runs it as a task and
 * reports its state. A task that ends gives its capacity back to the pool; a cancelled order
 * cancels its allocation.
 */
@Injectable()
export class AllocationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly allocations: AllocationsRepository,
    private readonly holds: HoldsRepository,
    private readonly pools: PoolsRepository,
    private readonly capacity: HeldCapacity,
    private readonly pageTokens: PageTokens,
  ) {}

  /** In the transaction confirming `hold` (its pool locked): the allocation, pending. */
  async open(tx: Tx, hold: HoldEntity, pool: PoolEntity, at: Date): Promise<AllocationEntity> {
    const allocation: AllocationEntity = {
      allocationId: hold.holdId,
      poolId: pool.poolId,
      providerParticipantId: pool.providerParticipantId,
      orderReference: hold.orderReference,
      resources: { ...hold.resources },
      state: 'pending',
      detail: '',
      version: 1,
      sequence: 0,
      createdAt: at,
      stateChangedAt: at,
    };
    allocation.sequence = await this.allocations.write(tx, allocation, true);
    await tx.emit(allocationEvent(allocation, AllocationCreated));
    return allocation;
  }

  /** The state of the hold's allocation (in the caller's transaction); undefined without one. */
  async stateOf(tx: Tx, holdId: string): Promise<TaskStateName | undefined> {
    return (await this.allocations.findById(holdId, tx))?.state;
  }

  /** Whether the hold has its allocation (under the hold's lock, in the caller's transaction). */
  async exists(tx: Tx, holdId: string): Promise<boolean> {
    return (await this.allocations.lock(tx, holdId)) !== undefined;
  }

  /**
   * In the transaction releasing the confirmed hold `holdId` (pool and hold locked): its
   * allocation is cancelled, so the provider stops the task. Returns its state after (undefined
   * when there is none).
   */
  async cancel(
    tx: Tx,
    holdId: string,
    reason: string,
    at: Date,
  ): Promise<TaskStateName | undefined> {
    const allocation = await this.allocations.lock(tx, holdId);
    if (!allocation || FINAL.has(allocation.state)) return allocation?.state;
    await this.change(tx, allocation, 'cancelled', reason, at);
    return 'cancelled';
  }

  async list(
    caller: Caller,
    request: ListAllocationsRequest,
  ): Promise<{ allocations: AllocationEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const checks = new FieldChecks().text(
      'provider_participant_id',
      request.providerParticipantId,
      { required: false, max: 128 },
    );
    const state = taskStateNameOf(request.state);
    if (request.state !== TaskState.TASK_STATE_UNSPECIFIED && !state)
      checks.add('state', `unknown value ${request.state}`);
    if (!Number.isSafeInteger(request.afterSequence) || request.afterSequence < 0)
      checks.add('after_sequence', 'must be 0 or more');
    const poolId = request.poolId ? checkPoolId(checks, 'pool_id', request.poolId) : undefined;
    checks.throwIfAny();
    let provider = request.providerParticipantId || undefined;
    if (!seesEveryPool(caller)) {
      if (!caller.tenant)
        throw new PermissionDeniedError(
          'NOT_A_PARTICIPANT',
          'only a participant lists its allocations',
        );
      if (provider && provider !== caller.tenant)
        throw new PermissionDeniedError(
          'NOT_OWNER',
          'providers may list only their own allocations',
        );
      provider = caller.tenant;
    }
    const filterKey = `allocations:${provider ?? ''}:${poolId ?? ''}:${state ?? ''}:${request.afterSequence}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.allocations.list(
      {
        providerParticipantId: provider,
        poolId,
        state,
        afterSequence: after ? Number(after.after) : request.afterSequence,
      },
      limit,
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (a) => ({ after: String(a.sequence), afterId: a.allocationId }),
      filterKey,
    );
    return { allocations: page, nextPageToken };
  }

  /**
   * A provider's report of its task: forwards only; a final state gives the capacity back to the
   * pool, under the pool's lock, with the hold released in the same transaction.
   */
  async report(
    caller: Caller,
    request: ReportTaskStateRequest,
  ): Promise<{ allocation: AllocationEntity; changed: boolean }> {
    const checks = new FieldChecks();
    const allocationId = checkHoldId(checks, 'allocation_id', request.allocationId);
    checks
      .text('detail', request.detail, { required: false, max: MAX_DETAIL })
      .text('request_id', request.requestId, {
        required: false,
        max: 64,
        pattern: REQUEST_ID_PATTERN,
        patternHint: "must be letters, digits, '.', '_', ':' or '-'",
      });
    const reported = reportedStateOf(checks, request.state);
    checks.throwIfAny();
    if (!reported) throw new Error('reportedStateOf returned nothing without a violation');
    const key = request.requestId
      ? {
          scope: caller.subject,
          requestId: request.requestId,
          operation: REPORT_TASK_STATE_OPERATION,
          fingerprint: fingerprintOf({ allocationId, state: reported, detail: request.detail }),
        }
      : undefined;
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      const found = await this.allocations.findById(allocationId, tx);
      // Another provider's allocation is answered as absent, like an unknown id.
      if (!found || found.providerParticipantId !== caller.tenant)
        throw allocationNotFound(allocationId);
      // Pools, then holds, then allocations: the order every transaction takes them in.
      const pool = await this.pools.lock(tx, found.poolId);
      const hold = await this.holds.lock(tx, allocationId);
      const allocation = await this.allocations.lock(tx, allocationId);
      if (!pool || !hold || !allocation) throw allocationNotFound(allocationId);
      tx.objectId = allocationId;
      if (reported === 'cancelled') {
        // The provider stopped the task of a cancelled allocation: its capacity is free now.
        if (allocation.state !== 'cancelled')
          throw new FailedPreconditionError(
            ErrorReason.INVALID_TASK_TRANSITION,
            `the task is ${allocation.state}; only the node cancels an allocation, which its provider then reports stopped`,
            { metadata: { current_state: allocation.state.toUpperCase() } },
          );
        const stopping = hold.state === 'stopping';
        if (stopping) await this.giveBack(tx, hold, pool, new Date());
        return { result: { allocation, changed: stopping }, objectId: allocationId };
      }
      if (!taskMoves(allocation.state, reported))
        return { result: { allocation, changed: false }, objectId: allocationId };
      const at = new Date();
      if (FINAL.has(reported)) await this.giveBack(tx, hold, pool, at);
      await this.change(tx, allocation, reported, request.detail, at);
      return { result: { allocation, changed: true }, objectId: allocationId };
    });
    if (outcome.created) return outcome.result;
    const allocation = await this.allocations.findById(allocationId);
    if (!allocation) throw allocationNotFound(allocationId);
    return { allocation, changed: false };
  }

  /**
   * Fails the allocations still pending `seconds` after they were created on pools that stopped
   * reporting (their providers' agents are gone without starting them), each in a transaction of its own under
   * the usual locks, and gives their capacity back as a reported failure does; returns how many.
   * The provider's agent sees FAILED in its next listing and drops the task; the order follows the
   * TaskStateChanged event. A replica that finds one already moved (by a report, a cancel or
   * another replica) leaves it.
   */
  async failUnstarted(seconds: number, limit = 500): Promise<number> {
    let failed = 0;
    for (const { allocationId, poolId } of await this.allocations.pendingSince(seconds, limit)) {
      const moved = await this.uow.run(async (tx) => {
        // Pools, then holds, then allocations: the order every transaction takes them in.
        const pool = await this.pools.lock(tx, poolId);
        const hold = await this.holds.lock(tx, allocationId);
        const allocation = await this.allocations.lock(tx, allocationId);
        if (!pool || !hold || !allocation) return false;
        // Its pool reports again: the agent is back, and the task is its business.
        if (pool.liveness === 'online') return false;
        // Still pending and as old, by the database's clock, now that it is locked.
        const at = await this.holds.databaseNow(tx);
        if (
          allocation.state !== 'pending' ||
          at.getTime() - allocation.createdAt.getTime() < seconds * 1000
        )
          return false;
        // Its capacity stays held for the stop grace, as a cancelled task's does: the agent may
        // have started the task and lost its link before it could say so, and it stops the task
        // only once it sees the allocation failed. Freed now, the cards could go to another order
        // while the task still runs on them.
        await this.keepUntilStopped(tx, hold, at);
        await this.change(
          tx,
          allocation,
          'failed',
          `the provider did not start the task within ${seconds} s of the order's confirmation, and its pool stopped reporting`,
          at,
        );
        return true;
      });
      if (moved) failed += 1;
    }
    return failed;
  }

  /**
   * A failed task's hold turns STOPPING (pool and hold locked): its capacity held until the stop
   * grace passes, as for a cancelled task whose provider has not reported it stopped.
   */
  private async keepUntilStopped(tx: Tx, hold: HoldEntity, at: Date): Promise<void> {
    if (hold.state !== 'confirmed') return;
    hold.state = 'stopping';
    hold.stateChangedAt = at;
    await this.holds.setState(tx, hold.holdId, 'stopping', at);
  }

  /**
   * An ended task's capacity back to its pool: its confirmed (or stopping) hold released, pool and
   * hold locked.
   */
  private async giveBack(tx: Tx, hold: HoldEntity, pool: PoolEntity, at: Date): Promise<void> {
    if (hold.state !== 'confirmed' && hold.state !== 'stopping') return;
    hold.state = 'released';
    hold.stateChangedAt = at;
    await this.holds.setState(tx, hold.holdId, 'released', at);
    await this.capacity.change(tx, pool, hold.resources, -1);
  }

  /** Moves a locked allocation to `state`; last in its transaction (the sequence lock). */
  private async change(
    tx: Tx,
    allocation: AllocationEntity,
    state: TaskStateName,
    detail: string,
    at: Date,
  ): Promise<void> {
    allocation.state = state;
    allocation.detail = detail;
    allocation.version += 1;
    allocation.stateChangedAt = at;
    allocation.sequence = await this.allocations.write(tx, allocation, false);
    await tx.emit(allocationEvent(allocation, TaskStateChanged));
  }
}

function reportedStateOf(checks: FieldChecks, state: TaskState): TaskStateName | undefined {
  const name = taskStateNameOf(state);
  if (state === TaskState.TASK_STATE_UNSPECIFIED) checks.add('state', 'is required');
  else if (!name) checks.add('state', `unknown value ${state}`);
  else return name;
  return undefined;
}

function allocationNotFound(allocationId: string): NotFoundError {
  return new NotFoundError(
    ErrorReason.ALLOCATION_NOT_FOUND,
    `allocation ${allocationId} does not exist`,
  );
}
