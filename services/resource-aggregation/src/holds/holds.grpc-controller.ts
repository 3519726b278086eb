import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, ServiceCallers, callerOf } from '@cinode/auth';
import { toTimestamp } from '@cinode/grpc';
import {
  HoldState,
  TaskState,
  type ConfirmHoldRequest,
  type ConfirmHoldResponse,
  type CreateHoldRequest,
  type CreateHoldResponse,
  type GetHoldRequest,
  type GetHoldResponse,
  type Hold,
  type ReleaseHoldRequest,
  type ReleaseHoldResponse,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { HoldEntity, HoldStateName } from './hold.entity';
import { HoldsService } from './holds.service';
import { taskStateMessageOf } from '../allocations/allocation-view';

const SERVICE = 'ResourceService';

const STATES: Readonly<Record<HoldStateName, HoldState>> = {
  active: HoldState.HOLD_STATE_ACTIVE,
  confirmed: HoldState.HOLD_STATE_CONFIRMED,
  released: HoldState.HOLD_STATE_RELEASED,
  expired: HoldState.HOLD_STATE_EXPIRED,
  stopping: HoldState.HOLD_STATE_STOPPING,
};

export function toHoldMessage(hold: HoldEntity): Hold {
  return {
    holdId: hold.holdId,
    poolId: hold.poolId,
    orderReference: hold.orderReference,
    resources: { ...hold.resources },
    state: STATES[hold.state],
    expiresAt: toTimestamp(hold.expiresAt),
    createdBy: hold.createdBy,
    createdAt: toTimestamp(hold.createdAt),
    stateChangedAt: toTimestamp(hold.stateChangedAt),
  };
}

/** Holds capacity for orders: the service center's market, and no other service of the node. */
const ORDER_PLACER = 'service-center';

@Controller()
export class HoldsGrpcController {
  constructor(private readonly holds: HoldsService) {}

  @GrpcMethod(SERVICE, 'CreateHold')
  @AllowRoles('service', 'operator')
  @ServiceCallers(ORDER_PLACER)
  @Audited('hold', 'created', 'hold.holdId')
  async createHold(request: CreateHoldRequest, metadata: Metadata): Promise<CreateHoldResponse> {
    const { hold, created } = await this.holds.create(callerOf(metadata), request);
    return { hold: toHoldMessage(hold), created };
  }

  @GrpcMethod(SERVICE, 'ConfirmHold')
  @AllowRoles('service', 'operator')
  @ServiceCallers(ORDER_PLACER)
  @Audited('hold', 'holdId')
  async confirmHold(request: ConfirmHoldRequest, metadata: Metadata): Promise<ConfirmHoldResponse> {
    return { hold: toHoldMessage(await this.holds.confirm(callerOf(metadata), request.holdId)) };
  }

  @GrpcMethod(SERVICE, 'ReleaseHold')
  @AllowRoles('service', 'operator')
  @ServiceCallers(ORDER_PLACER)
  @Audited('hold', 'holdId')
  async releaseHold(request: ReleaseHoldRequest, metadata: Metadata): Promise<ReleaseHoldResponse> {
    const { hold, releasedNow, allocationState } = await this.holds.release(
      callerOf(metadata),
      request.holdId,
      request.reason,
    );
    return {
      hold: toHoldMessage(hold),
      releasedNow,
      allocationState: allocationState
        ? taskStateMessageOf(allocationState)
        : TaskState.TASK_STATE_UNSPECIFIED,
    };
  }

  /** Read by operators, regulators and the order placer: a hold names its order and creator. */
  @GrpcMethod(SERVICE, 'GetHold')
  @AllowRoles('service', 'operator', 'regulator')
  @ServiceCallers(ORDER_PLACER)
  @ReadOnly()
  async getHold(request: GetHoldRequest): Promise<GetHoldResponse> {
    return { hold: toHoldMessage(await this.holds.get(request.holdId)) };
  }
}
