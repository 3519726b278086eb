import { status as GrpcStatus } from '@grpc/grpc-js';
import type { HeldData } from '@cinode/contracts';
import { decodeRichStatus, fromTimestamp, isGrpcError } from '@cinode/grpc';
import {
  TaskState,
  type Allocation,
  type ReportTaskStateRequest,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Logger } from 'pino';

/** Tries at reporting a cancelled task stopped before the node's stop grace is left to free it. */
const STOP_REPORT_ATTEMPTS = 10;

/** How a task's state reaches the node: ReportTaskState, as the pool's provider. */
export type ReportTaskState = (request: ReportTaskStateRequest) => Promise<unknown>;

export interface TaskTimings {
  /** From receiving a pending allocation to reporting it RUNNING. */
  startDelayMs: number;
  /** From RUNNING to COMPLETED. */
  durationMs: number;
  /** Wait before retrying a report the node could not take (unavailable, a deadline). */
  retryMs: number;
}

/** Where a task's resources are taken from while it runs (the reported free capacity). */
export interface TaskCapacity {
  take(poolKey: string, resources: HeldData): void;
  give(poolKey: string, resources: HeldData): void;
}

interface Task {
  allocation: Allocation;
  poolKey: string;
  timer: NodeJS.Timeout | undefined;
  /** Resources taken from the pool's free capacity, while running. */
  taken: HeldData | undefined;
}

/**
 * Runs each allocation as a task: PENDING → RUNNING after the start delay → COMPLETED after the
 * duration, each step reported (with a request id per step, so a retried report is applied once).
 * This is the simulated executor of the reference agent; a real one starts the workload where
 * this one sets a timer. A cancelled allocation stops its task, which is then reported stopped (the
 * node holds its capacity until then). After a restart the allocations
 * are listed again from the start, so a task the agent ran before carries on from its state.
 */
export class TaskRunner {
  private readonly tasks = new Map<string, Task>();
  private stopped = false;

  constructor(
    private readonly report: ReportTaskState,
    private readonly capacity: TaskCapacity,
    private readonly timings: TaskTimings,
    private readonly logger: Logger,
  ) {}

  get running(): number {
    return this.tasks.size;
  }

  /** An allocation as the node lists it now; `poolKey` is the agent's key of its pool. */
  handle(allocation: Allocation, poolKey: string | undefined): void {
    const known = this.tasks.get(allocation.allocationId);
    switch (allocation.state) {
      case TaskState.TASK_STATE_CANCELLED:
        if (known) this.stop(known, 'its order was cancelled');
        // Cancelled before this agent ran it (between two listings, or while the agent was down):
        // this simulated executor runs nothing of it, so its capacity is free. A real executor
        // whose workloads outlive the agent must check before saying so. Only recent ones: older
        // ones the node's stop grace has freed, and a restarted agent does not report a backlog.
        else if (poolKey !== undefined && cancelledRecently(allocation))
          void this.reportStopped(allocation.allocationId);
        return;
      case TaskState.TASK_STATE_COMPLETED:
      case TaskState.TASK_STATE_FAILED:
        if (known) this.forget(known);
        return;
      case TaskState.TASK_STATE_PENDING:
      case TaskState.TASK_STATE_RUNNING:
        if (known || this.stopped) return;
        if (poolKey === undefined) {
          this.logger.warn(
            { allocationId: allocation.allocationId, poolId: allocation.poolId },
            'allocation of a pool this agent does not report; left alone',
          );
          return;
        }
        this.start(allocation, poolKey);
        return;
      default:
        this.logger.warn({ allocation }, 'allocation in an unknown state; left alone');
        return;
    }
  }

  /** Stops every task's timers (the agent is stopping); the node keeps their state. */
  stopAll(): void {
    this.stopped = true;
    for (const task of this.tasks.values()) clearTimeout(task.timer);
    this.tasks.clear();
  }

  private start(allocation: Allocation, poolKey: string): void {
    const task: Task = { allocation, poolKey, timer: undefined, taken: undefined };
    this.tasks.set(allocation.allocationId, task);
    const resources = describe(allocation);
    if (allocation.state === TaskState.TASK_STATE_RUNNING) {
      this.logger.info(
        { allocationId: allocation.allocationId, order: allocation.orderReference },
        `resuming task on ${allocation.poolId} (${resources})`,
      );
      this.run(task);
      return;
    }
    this.logger.info(
      { allocationId: allocation.allocationId, order: allocation.orderReference },
      `allocation received on ${allocation.poolId} (${resources}); starting the task`,
    );
    task.timer = setTimeout(() => {
      void this.step(task, TaskState.TASK_STATE_RUNNING, 'simulated task started').then((ok) => {
        if (ok) this.run(task);
      });
    }, this.timings.startDelayMs);
  }

  private run(task: Task): void {
    const resources = task.allocation.resources;
    if (resources && !task.taken) {
      task.taken = toHeld(resources);
      this.capacity.take(task.poolKey, task.taken);
    }
    task.timer = setTimeout(() => {
      const seconds = (this.timings.durationMs / 1000).toFixed(1);
      void this.step(
        task,
        TaskState.TASK_STATE_COMPLETED,
        `simulated task finished after ${seconds} s`,
      ).then((ok) => {
        if (ok) {
          this.logger.info(
            { allocationId: task.allocation.allocationId },
            `task completed on ${task.allocation.poolId}; capacity released`,
          );
          this.forget(task);
        }
      });
    }, this.timings.durationMs);
  }

  /**
   * Reports a step; true once the node took it. Transient failures are retried; a refusal ends
   * the task (cancelled: stopped; anything else: the node's state wins, logged).
   */
  private async step(task: Task, state: TaskState, detail: string): Promise<boolean> {
    const allocationId = task.allocation.allocationId;
    for (;;) {
      if (this.stopped || this.tasks.get(allocationId) !== task) return false;
      try {
        await this.report({
          allocationId,
          state,
          detail,
          requestId: `${allocationId}:${TaskState[state]}`.slice(0, 64),
        });
        this.logger.info({ allocationId }, `reported ${TaskState[state]}`);
        return true;
      } catch (error) {
        if (isGrpcError(error, GrpcStatus.FAILED_PRECONDITION)) {
          const reason = decodeRichStatus(error)?.errorInfo?.reason;
          if (reason === 'ALLOCATION_CANCELLED') this.stop(task, 'its order was cancelled');
          else {
            this.logger.warn({ allocationId, reason }, `the node refused ${TaskState[state]}`);
            this.forget(task);
          }
          return false;
        }
        if (
          isGrpcError(error, GrpcStatus.NOT_FOUND) ||
          isGrpcError(error, GrpcStatus.PERMISSION_DENIED)
        ) {
          this.logger.error({ allocationId, err: error }, 'the node refused the report');
          this.forget(task);
          return false;
        }
        this.logger.warn(
          { allocationId, err: error },
          `reporting ${TaskState[state]} failed; retrying in ${this.timings.retryMs} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, this.timings.retryMs));
      }
    }
  }

  private stop(task: Task, why: string): void {
    this.logger.info(
      { allocationId: task.allocation.allocationId },
      `stopped the task on ${task.allocation.poolId}: ${why}`,
    );
    this.forget(task);
    void this.reportStopped(task.allocation.allocationId);
  }

  /**
   * Tells the node a cancelled allocation's task is down (ReportTaskState CANCELLED), so its
   * capacity is free again at once rather than after the node's stop grace. Transient failures are
   * retried with backoff, ten times at most; a refusal (a node that predates the acknowledgement) is logged, and the
   * grace frees the capacity instead.
   */
  private async reportStopped(allocationId: string): Promise<void> {
    const state = TaskState.TASK_STATE_CANCELLED;
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        await this.report({
          allocationId,
          state,
          detail: 'the task stopped',
          requestId: `${allocationId}:${TaskState[state]}`.slice(0, 64),
        });
        this.logger.info({ allocationId }, 'reported the cancelled task stopped');
        return;
      } catch (error) {
        const refused = [
          GrpcStatus.INVALID_ARGUMENT,
          GrpcStatus.FAILED_PRECONDITION,
          GrpcStatus.NOT_FOUND,
          GrpcStatus.PERMISSION_DENIED,
        ].some((code) => isGrpcError(error, code));
        if (refused || attempt >= STOP_REPORT_ATTEMPTS) {
          this.logger.warn(
            { allocationId, err: error },
            'could not report the cancelled task stopped; the node frees its capacity after its stop grace',
          );
          return;
        }
        // Backing off, so that a node restarting is ridden out (about a minute in all).
        const wait = Math.min(STOP_REPORT_MAX_WAIT_MS, this.timings.retryMs * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private forget(task: Task): void {
    clearTimeout(task.timer);
    if (task.taken) this.capacity.give(task.poolKey, task.taken);
    task.taken = undefined;
    if (this.tasks.get(task.allocation.allocationId) === task)
      this.tasks.delete(task.allocation.allocationId);
  }
}

/** How far back a cancellation an agent did not run is still reported stopped. */
const RECENT_CANCELLATION_MS = 600_000;
/** Longest wait between two tries at reporting a cancelled task stopped. */
const STOP_REPORT_MAX_WAIT_MS = 10_000;

function cancelledRecently(allocation: Allocation): boolean {
  const at = allocation.stateChangedAt;
  return at !== undefined && Date.now() - fromTimestamp(at).getTime() <= RECENT_CANCELLATION_MS;
}

function toHeld(resources: NonNullable<Allocation['resources']>): HeldData {
  return {
    cpuCores: resources.cpuCores,
    gpuCards: resources.gpuCards,
    npuCards: resources.npuCards,
    memoryGib: resources.memoryGib,
    storageGib: resources.storageGib,
  };
}

function describe(allocation: Allocation): string {
  const r = allocation.resources;
  if (!r) return 'nothing';
  const parts = [
    [r.gpuCards, 'GPU'],
    [r.npuCards, 'NPU'],
    [r.cpuCores, 'cores'],
    [r.memoryGib, 'GiB memory'],
    [r.storageGib, 'GiB storage'],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, what]) => `${n} ${what}`);
  return parts.join(', ') || 'nothing';
}
