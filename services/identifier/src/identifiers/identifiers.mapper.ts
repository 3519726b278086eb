import { assertUnreachable } from '@cinode/common';
import { toTimestamp } from '@cinode/grpc';
import { IdentifiedObjectType } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  IdentifierState,
  ObjectType,
  SuspensionCause,
  type Identifier,
  type StateTransition,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type { ObjectTypeCode } from '../format/identifier-format';
import type { IdentifierStateName, SuspensionCauseName } from './identifier-states';
import type { IdentifierTransitionEntity } from './identifier-transition.entity';
import type { PoolLiveStateEntity } from '../pool-states/pool-live-state.entity';
import type { IdentifierEntity } from './identifier.entity';

export function objectTypeCodeOf(type: ObjectType): ObjectTypeCode | undefined {
  switch (type) {
    case ObjectType.OBJECT_TYPE_RESOURCE_POOL:
      return 'RP';
    case ObjectType.OBJECT_TYPE_PARTICIPANT:
      return 'PT';
    case ObjectType.OBJECT_TYPE_LINE:
      return 'LN';
    case ObjectType.OBJECT_TYPE_APPLICATION_SERVICE:
      return 'AS';
    case ObjectType.OBJECT_TYPE_UNSPECIFIED:
      return undefined;
    default:
      // A number from a newer client that this build does not know: the caller reports it as invalid.
      return undefined;
  }
}

export function objectTypeOf(code: ObjectTypeCode): ObjectType {
  switch (code) {
    case 'RP':
      return ObjectType.OBJECT_TYPE_RESOURCE_POOL;
    case 'PT':
      return ObjectType.OBJECT_TYPE_PARTICIPANT;
    case 'LN':
      return ObjectType.OBJECT_TYPE_LINE;
    case 'AS':
      return ObjectType.OBJECT_TYPE_APPLICATION_SERVICE;
    default:
      return assertUnreachable(code, 'object type code');
  }
}

/** The national node's enum for the same object type. */
export function nationalObjectTypeOf(code: ObjectTypeCode): IdentifiedObjectType {
  switch (code) {
    case 'RP':
      return IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_RESOURCE_POOL;
    case 'PT':
      return IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_PARTICIPANT;
    case 'LN':
      return IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_LINE;
    case 'AS':
      return IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_APPLICATION_SERVICE;
    default:
      return assertUnreachable(code, 'object type code');
  }
}

export function stateOf(state: IdentifierStateName | null): IdentifierState {
  switch (state) {
    case null:
      return IdentifierState.IDENTIFIER_STATE_UNSPECIFIED;
    case 'reserved':
      return IdentifierState.IDENTIFIER_STATE_RESERVED;
    case 'pending_filing':
      return IdentifierState.IDENTIFIER_STATE_PENDING_FILING;
    case 'filed':
      return IdentifierState.IDENTIFIER_STATE_FILED;
    case 'suspended':
      return IdentifierState.IDENTIFIER_STATE_SUSPENDED;
    case 'retired':
      return IdentifierState.IDENTIFIER_STATE_RETIRED;
    default:
      return assertUnreachable(state, 'identifier state');
  }
}

export function stateNameOf(state: IdentifierState): IdentifierStateName | undefined {
  switch (state) {
    case IdentifierState.IDENTIFIER_STATE_UNSPECIFIED:
      return undefined;
    case IdentifierState.IDENTIFIER_STATE_RESERVED:
      return 'reserved';
    case IdentifierState.IDENTIFIER_STATE_PENDING_FILING:
      return 'pending_filing';
    case IdentifierState.IDENTIFIER_STATE_FILED:
      return 'filed';
    case IdentifierState.IDENTIFIER_STATE_SUSPENDED:
      return 'suspended';
    case IdentifierState.IDENTIFIER_STATE_RETIRED:
      return 'retired';
    default:
      // Unknown wire value: treated like no filter.
      return undefined;
  }
}

function causeOf(cause: SuspensionCauseName | null): SuspensionCause {
  switch (cause) {
    case null:
      return SuspensionCause.SUSPENSION_CAUSE_UNSPECIFIED;
    case 'operator':
      return SuspensionCause.SUSPENSION_CAUSE_OPERATOR;
    case 'owner_suspended':
      return SuspensionCause.SUSPENSION_CAUSE_OWNER_SUSPENDED;
    case 'owner_revoked':
      return SuspensionCause.SUSPENSION_CAUSE_OWNER_REVOKED;
    default:
      return assertUnreachable(cause, 'suspension cause');
  }
}

function toTransitionMessage(t: IdentifierTransitionEntity): StateTransition {
  return {
    fromState: stateOf(t.fromState),
    toState: stateOf(t.toState),
    actor: t.actor,
    reason: t.reason,
    changedAt: toTimestamp(t.changedAt),
  };
}

export function toIdentifierMessage(
  entity: IdentifierEntity,
  transitions: IdentifierTransitionEntity[] = [],
  poolState?: PoolLiveStateEntity,
): Identifier {
  return {
    identifier: entity.identifier,
    objectType: objectTypeOf(entity.objectType),
    objectName: entity.objectName,
    ownerParticipantId: entity.ownerParticipantId,
    ownerName: entity.ownerName,
    ownerCreditCode: entity.ownerCreditCode,
    attributes: entity.attributes,
    state: stateOf(entity.state),
    suspensionCause:
      entity.state === 'suspended'
        ? causeOf(entity.suspensionCause)
        : SuspensionCause.SUSPENSION_CAUSE_UNSPECIFIED,
    filingNumber: entity.filingNumber ?? '',
    filingError: entity.filingError ?? '',
    issuedBy: entity.issuedBy,
    issuedAt: toTimestamp(entity.issuedAt),
    filedAt: entity.filedAt ? toTimestamp(entity.filedAt) : undefined,
    stateChangedAt: toTimestamp(entity.stateChangedAt),
    transitions: transitions.map(toTransitionMessage),
    poolState: poolState && {
      state: poolState.state,
      reported: poolState.reported,
      cpuCoresFree: poolState.cpuCoresFree,
      gpuCardsFree: poolState.gpuCardsFree,
      npuCardsFree: poolState.npuCardsFree,
      fp16TflopsFree: poolState.fp16TflopsFree,
      fp32TflopsFree: poolState.fp32TflopsFree,
      memoryGibFree: poolState.memoryGibFree,
      storageGibFree: poolState.storageGibFree,
      lastReportedAt: poolState.lastReportedAt ? toTimestamp(poolState.lastReportedAt) : undefined,
      version: poolState.version,
    },
  };
}
