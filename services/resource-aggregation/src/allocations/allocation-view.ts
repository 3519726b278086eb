import {
  eventOf,
  type AllocationData,
  type EventContract,
  type EventMessage,
  type TaskStateName,
} from '@cinode/contracts';
import { toTimestamp } from '@cinode/grpc';
import { TaskState, type Allocation } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { AllocationEntity } from './allocation.entity';

const STATE_MESSAGES: Readonly<Record<TaskStateName, TaskState>> = {
  pending: TaskState.TASK_STATE_PENDING,
  running: TaskState.TASK_STATE_RUNNING,
  completed: TaskState.TASK_STATE_COMPLETED,
  failed: TaskState.TASK_STATE_FAILED,
  cancelled: TaskState.TASK_STATE_CANCELLED,
};

export function taskStateMessageOf(state: TaskStateName): TaskState {
  return STATE_MESSAGES[state];
}

/** The stored state name of a TaskState; undefined for unspecified or unknown. */
export function taskStateNameOf(state: TaskState): TaskStateName | undefined {
  return (Object.keys(STATE_MESSAGES) as TaskStateName[]).find((k) => STATE_MESSAGES[k] === state);
}

/** What allocation events carry: the whole allocation as of its version. */
export function allocationDataOf(allocation: AllocationEntity): AllocationData {
  return {
    allocationId: allocation.allocationId,
    holdId: allocation.allocationId,
    poolId: allocation.poolId,
    providerParticipantId: allocation.providerParticipantId,
    orderReference: allocation.orderReference,
    state: allocation.state,
    detail: allocation.detail,
    version: allocation.version,
    changedAt: allocation.stateChangedAt.toISOString(),
    createdAt: allocation.createdAt.toISOString(),
  };
}

/** The event of an allocation change: AllocationCreated or TaskStateChanged. */
export function allocationEvent(
  allocation: AllocationEntity,
  contract: EventContract<AllocationData>,
): EventMessage<AllocationData> {
  return eventOf(contract, allocationDataOf(allocation));
}

export function toAllocationMessage(allocation: AllocationEntity): Allocation {
  return {
    allocationId: allocation.allocationId,
    holdId: allocation.allocationId,
    poolId: allocation.poolId,
    providerParticipantId: allocation.providerParticipantId,
    orderReference: allocation.orderReference,
    resources: { ...allocation.resources },
    state: taskStateMessageOf(allocation.state),
    detail: allocation.detail,
    version: allocation.version,
    sequence: allocation.sequence,
    createdAt: toTimestamp(allocation.createdAt),
    stateChangedAt: toTimestamp(allocation.stateChangedAt),
  };
}
